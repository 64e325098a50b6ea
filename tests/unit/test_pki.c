/* SPDX-License-Identifier: ISC */
/* test_pki: makes the test CA and certificates described in test_pki.h with
 * OpenSSL's C API, so the TLS tests need no openssl binary and no files
 * from the source tree. */
#include "test_pki.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

struct pki_entity {
	const char *file; /* base name: FILE.crt and FILE.key */
	const char *common_name;
	const char *alt_names; /* subjectAltName value, or NULL */
	const char *issuer; /* file of the issuing CA; NULL: self-signed CA */
	/* NULL: the usual ones (CA:TRUE, keyCertSign and cRLSign for a CA;
	 * CA:FALSE, digitalSignature for a leaf); set for the broken CAs. */
	const char *basic_constraints;
	const char *key_usage;
	const char *key_type; /* NULL: EC P-256 */
};

/* Issuers come before what they sign. */
static const struct pki_entity pki_entities[] = {
	{ "ca", "sxedge test CA", NULL, NULL, NULL, NULL, NULL },
	{ "rogue-ca", "sxedge rogue CA", NULL, NULL, NULL, NULL, NULL },
	{ "edge", "edge.example.test",
	  "DNS:edge.example.test,DNS:edge-int.example.test,IP:127.0.0.1", "ca", NULL, NULL, NULL },
	{ "pool1", "pool1.example.test", "DNS:pool1.example.test", "ca", NULL, NULL, NULL },
	{ "rogue-pool1", "pool1.example.test", "DNS:pool1.example.test", "rogue-ca", NULL, NULL,
	  NULL },
	{ "other", "other.example.test", "DNS:other.example.test", "ca", NULL, NULL, NULL },
	{ "cn-only", "cnonly.example.test", NULL, "ca", NULL, NULL, NULL },
	{ "link-ca", "sxedge test link CA", NULL, NULL, NULL, NULL, NULL },
	{ "not-ca", "sxedge test not a CA", NULL, NULL, "critical,CA:FALSE",
	  "critical,keyCertSign,cRLSign", NULL },
	{ "no-cert-sign-ca", "sxedge test CA without keyCertSign", NULL, NULL, NULL,
	  "critical,digitalSignature,cRLSign", NULL },
	{ "ed25519-ca", "sxedge test Ed25519 CA", NULL, NULL, NULL, NULL, "ED25519" },
};
#define PKI_COUNT (sizeof(pki_entities) / sizeof(pki_entities[0]))

struct pki_made {
	EVP_PKEY *key;
	X509 *cert;
};

static char pki_dir[PATH_MAX];
static pid_t pki_owner; /* the process that made pki_dir and must remove it */

static void pki_fail(const char *what)
{
	fprintf(stderr, "test_pki: cannot %s\n", what);
	abort();
}

static void pki_add_extension(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	if (extension == NULL || !X509_add_ext(cert, extension, -1))
		pki_fail("add a certificate extension");
	X509_EXTENSION_free(extension);
}

static void pki_add_extensions(X509 *cert, X509 *issuer, const struct pki_entity *entity)
{
	X509V3_CTX ctx;
	bool is_ca = entity->issuer == NULL;
	const char *constraints = is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
	const char *usage = is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature";

	if (entity->basic_constraints != NULL)
		constraints = entity->basic_constraints;
	if (entity->key_usage != NULL)
		usage = entity->key_usage;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	pki_add_extension(cert, &ctx, NID_basic_constraints, constraints);
	pki_add_extension(cert, &ctx, NID_key_usage, usage);
	pki_add_extension(cert, &ctx, NID_subject_key_identifier, "hash");
	if (!is_ca) {
		pki_add_extension(cert, &ctx, NID_authority_key_identifier, "keyid:always");
		pki_add_extension(cert, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
	}
	if (entity->alt_names != NULL)
		pki_add_extension(cert, &ctx, NID_subject_alt_name, entity->alt_names);
}

static X509 *pki_certificate(const struct pki_entity *entity, EVP_PKEY *key,
			     const struct pki_made *issuer, long serial)
{
	X509 *cert = X509_new();
	X509_NAME *subject;
	EVP_PKEY *signer;

	if (cert == NULL || !X509_set_version(cert, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 24 * 3600) == NULL ||
	    !X509_set_pubkey(cert, key))
		pki_fail("make a certificate");
	subject = X509_get_subject_name(cert);
	if (!X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
					(const unsigned char *)entity->common_name, -1, -1, 0))
		pki_fail("set a subject");
	if (!X509_set_issuer_name(cert,
				  issuer != NULL ? X509_get_subject_name(issuer->cert) : subject))
		pki_fail("set an issuer");
	pki_add_extensions(cert, issuer != NULL ? issuer->cert : cert, entity);
	signer = issuer != NULL ? issuer->key : key;
	/* EdDSA signs the message itself, with no separate digest */
	if (!X509_sign(cert, signer, EVP_PKEY_is_a(signer, "ED25519") ? NULL : EVP_sha256()))
		pki_fail("sign a certificate");
	return cert;
}

static void pki_write(const char *file, const char *suffix, X509 *cert, EVP_PKEY *key)
{
	char path[PATH_MAX + 64];
	FILE *out;
	bool written;

	snprintf(path, sizeof(path), "%s/%s.%s", pki_dir, file, suffix);
	out = fopen(path, "w");
	if (out == NULL)
		pki_fail("create a PKI file");
	if (key != NULL) {
		fchmod(fileno(out), 0600);
		written = PEM_write_PrivateKey(out, key, NULL, NULL, 0, NULL, NULL);
	} else {
		written = PEM_write_X509(out, cert);
	}
	if (fclose(out) != 0 || !written)
		pki_fail("write a PKI file");
}

static const struct pki_made *pki_find(const struct pki_made *made, const char *file)
{
	size_t i;
	for (i = 0; i < PKI_COUNT; i++) {
		if (strcmp(pki_entities[i].file, file) == 0)
			return &made[i];
	}
	pki_fail("find an issuer");
	return NULL;
}

static void pki_remove(void)
{
	char path[PATH_MAX + 64];
	size_t i;

	if (pki_dir[0] == '\0' || getpid() != pki_owner)
		return;
	for (i = 0; i < PKI_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s.crt", pki_dir, pki_entities[i].file);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s.key", pki_dir, pki_entities[i].file);
		unlink(path);
	}
	rmdir(pki_dir);
}

static void pki_make(void)
{
	struct pki_made made[PKI_COUNT];
	const char *tmp = getenv("TMPDIR");
	size_t i;

	snprintf(pki_dir, sizeof(pki_dir), "%s/sxedge-pki-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(pki_dir) == NULL)
		pki_fail("make a temporary directory");
	pki_owner = getpid();
	atexit(pki_remove);
	for (i = 0; i < PKI_COUNT; i++) {
		const struct pki_entity *entity = &pki_entities[i];
		made[i].key = entity->key_type != NULL
				      ? EVP_PKEY_Q_keygen(NULL, NULL, entity->key_type)
				      : EVP_EC_gen("P-256");
		if (made[i].key == NULL)
			pki_fail("make a key");
		made[i].cert = pki_certificate(
			entity, made[i].key,
			entity->issuer != NULL ? pki_find(made, entity->issuer) : NULL,
			(long)(i + 1));
		pki_write(entity->file, "crt", made[i].cert, NULL);
		pki_write(entity->file, "key", NULL, made[i].key);
	}
	for (i = 0; i < PKI_COUNT; i++) {
		X509_free(made[i].cert);
		EVP_PKEY_free(made[i].key);
	}
}

const char *test_pki_dir(void)
{
	if (pki_dir[0] == '\0')
		pki_make();
	return pki_dir;
}

char *test_pki_path(const char *file)
{
	const char *dir = test_pki_dir();
	size_t size = strlen(dir) + strlen(file) + 2;
	char *path = malloc(size);

	if (path == NULL)
		pki_fail("allocate a path");
	snprintf(path, size, "%s/%s", dir, file);
	return path;
}
