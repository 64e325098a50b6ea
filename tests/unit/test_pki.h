/* SPDX-License-Identifier: ISC */
/* test_pki: a throw-away PKI for the unit tests that speak TLS.
 *
 * test_pki_dir() makes it once per process, with OpenSSL's C API, in a fresh
 * mkdtemp() directory that is removed when the process that made it exits
 * (forked Check children that inherit it leave it alone).  All keys but
 * ed25519-ca's are EC P-256, all certificates valid from an hour ago for 30
 * days, leaf certificates carry serverAuth and clientAuth.  Files (PEM):
 *
 *   ca.crt, ca.key                  the test CA ("CN=sxedge test CA")
 *   rogue-ca.crt, rogue-ca.key      an unrelated CA ("CN=sxedge rogue CA")
 *   edge.crt, edge.key              CN=edge.example.test, SAN DNS:edge.example.test,
 *                                   DNS:edge-int.example.test, IP:127.0.0.1 (by ca)
 *   pool1.crt, pool1.key            CN=pool1.example.test, SAN DNS:pool1.example.test (by ca)
 *   rogue-pool1.crt, rogue-pool1.key  the same names as pool1, signed by the rogue CA
 *   other.crt, other.key            CN=other.example.test, SAN DNS:other.example.test (by ca)
 *   cn-only.crt, cn-only.key        CN=cnonly.example.test, no subjectAltName (by ca)
 *   link-ca.crt, link-ca.key        a CA for lib/tls_mint ("CN=sxedge test link CA")
 *   not-ca.crt, not-ca.key          self-signed, keyCertSign but basicConstraints CA:FALSE
 *   no-cert-sign-ca.crt, .key       self-signed, CA:TRUE but keyUsage without keyCertSign
 *   ed25519-ca.crt, ed25519-ca.key  a CA with an Ed25519 key (the others are EC P-256)
 *
 * Any failure to make the PKI aborts the process: no test can run without it. */
#ifndef SXEDGE_TEST_PKI_H
#define SXEDGE_TEST_PKI_H

/* The directory holding the files above. */
const char *test_pki_dir(void);

/* The full path of FILE in that directory (malloc'd). */
char *test_pki_path(const char *file);

#endif
