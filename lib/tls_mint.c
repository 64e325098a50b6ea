/* SPDX-License-Identifier: ISC */
/* tls_mint: the link CA that mints leaf certificates per domain (see
 * tls_mint.h).
 *
 * The cache is an array searched from the front: a mint holds at most
 * TLS_MINT_CACHE_MAX leaves and is asked once per internal TLS handshake,
 * and a scan of a few thousand short strings costs far less than the
 * handshake it serves. */
#include "tls_mint.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define DNS_NAME_MAX  253
#define DNS_LABEL_MAX 63
#define SERIAL_BYTES  16
/* id-on-xmppAddr, RFC 6120 §13.7.1.4 */
#define XMPP_ADDR_OID "1.3.6.1.5.5.7.8.5"

struct minted_leaf {
	char *domain;
	struct tls_identity *identity;
	char serial[2 * SERIAL_BYTES + 1];
	time_t not_before, not_after;
	uint64_t minted; /* the mint's count when this leaf was made: lowest is oldest */
};

struct tls_mint {
	X509 *ca_certificate;
	EVP_PKEY *ca_key;
	EVP_PKEY *leaf_key;
	EVP_MD *digest;
	unsigned validity_s;
	struct minted_leaf *leaves; /* grown on demand up to TLS_MINT_CACHE_MAX */
	size_t n_leaves, capacity;
	uint64_t count;
};

/* ---- domain names ---- */

static bool label_character(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool tls_mint_domain_valid(const char *name)
{
	size_t length, start = 0, i;
	bool all_digits = true;

	if (name == NULL)
		return false;
	length = strnlen(name, DNS_NAME_MAX + 1);
	if (length == 0 || length > DNS_NAME_MAX)
		return false;
	for (i = 0; i <= length; i++) {
		if (i < length && name[i] != '.') {
			if (!label_character(name[i]))
				return false;
			if (name[i] < '0' || name[i] > '9')
				all_digits = false;
			continue;
		}
		/* a label is name[start, i) */
		if (i == start || i - start > DNS_LABEL_MAX || name[start] == '-' ||
		    name[i - 1] == '-')
			return false;
		if (i < length) {
			start = i + 1;
			all_digits = true;
		}
	}
	/* No top-level domain is all digits: such a name is an IPv4 address. */
	return !all_digits;
}

/* ---- loading the link CA ---- */

/* The checks a verifier makes on an issuer (RFC 5280 §4.2.1.3, §4.2.1.9),
 * made at start-up so that a wrong file is refused by name instead of every
 * minted leaf failing verification at the far end. */
static int mint_check_ca(const struct tls_mint *mint, const char *ca_certificate,
			 const char *ca_key, char *err, size_t err_size)
{
	uint32_t flags;

	/* The last three are no OpenSSL errors: nothing to add from its queue. */
	if (X509_check_private_key(mint->ca_certificate, mint->ca_key) != 1) {
		tls_error(err, err_size, "%s: private key does not match certificate %s", ca_key,
			  ca_certificate);
		return -1;
	}
	if (!EVP_PKEY_is_a(mint->ca_key, "EC") && !EVP_PKEY_is_a(mint->ca_key, "RSA")) {
		snprintf(err, err_size,
			 "%s: the link CA key must be EC or RSA (it signs with SHA-256)", ca_key);
		return -1;
	}
	flags = X509_get_extension_flags(mint->ca_certificate);
	if (!(flags & EXFLAG_CA)) {
		snprintf(err, err_size, "%s: not a CA certificate (no basicConstraints CA:TRUE)",
			 ca_certificate);
		return -1;
	}
	if ((flags & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(mint->ca_certificate) & KU_KEY_CERT_SIGN)) {
		snprintf(err, err_size, "%s: its keyUsage does not allow keyCertSign",
			 ca_certificate);
		return -1;
	}
	return 0;
}

struct tls_mint *tls_mint_new(const char *ca_certificate, const char *ca_key, unsigned validity_s,
			      char *err, size_t err_size)
{
	struct tls_mint *mint;

	ERR_clear_error();
	if (validity_s == 0) {
		snprintf(err, err_size, "the validity of minted certificates must be positive");
		return NULL;
	}
	mint = calloc(1, sizeof(*mint));
	if (mint == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	mint->validity_s = validity_s;
	mint->ca_certificate = tls_read_certificate(ca_certificate);
	if (mint->ca_certificate == NULL) {
		tls_error(err, err_size, "%s: cannot load certificate", ca_certificate);
		tls_mint_free(mint);
		return NULL;
	}
	mint->ca_key = tls_read_key(ca_key);
	if (mint->ca_key == NULL) {
		tls_error(err, err_size, "%s: cannot load private key", ca_key);
		tls_mint_free(mint);
		return NULL;
	}
	if (mint_check_ca(mint, ca_certificate, ca_key, err, err_size) != 0) {
		tls_mint_free(mint);
		return NULL;
	}
	mint->digest = EVP_MD_fetch(NULL, "SHA256", NULL);
	mint->leaf_key = EVP_EC_gen("P-256");
	if (mint->digest == NULL || mint->leaf_key == NULL) {
		tls_error(err, err_size, "cannot make the key for minted certificates");
		tls_mint_free(mint);
		return NULL;
	}
	return mint;
}

static void minted_leaf_clear(struct minted_leaf *leaf)
{
	free(leaf->domain);
	tls_identity_free(leaf->identity);
	memset(leaf, 0, sizeof(*leaf));
}

void tls_mint_free(struct tls_mint *mint)
{
	size_t i;

	if (mint == NULL)
		return;
	for (i = 0; i < mint->n_leaves; i++)
		minted_leaf_clear(&mint->leaves[i]);
	free(mint->leaves);
	X509_free(mint->ca_certificate);
	EVP_PKEY_free(mint->ca_key);
	EVP_PKEY_free(mint->leaf_key);
	EVP_MD_free(mint->digest);
	free(mint);
}

/* ---- minting ---- */

/* 16 random bytes, the top bit clear so the number is positive (RFC 5280
 * §4.1.2.2) and the next one set so it is never 0 and always 16 bytes long
 * in DER: 126 random bits, well over the 64 that CAs are held to. */
static bool mint_serial(X509 *certificate, char hex[2 * SERIAL_BYTES + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char bytes[SERIAL_BYTES];
	BIGNUM *number;
	bool set;
	size_t i;

	if (RAND_bytes(bytes, sizeof(bytes)) != 1)
		return false;
	bytes[0] = (unsigned char)((bytes[0] & 0x7f) | 0x40);
	number = BN_bin2bn(bytes, sizeof(bytes), NULL);
	set = number != NULL &&
	      BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != NULL;
	BN_free(number);
	for (i = 0; i < sizeof(bytes); i++) {
		hex[2 * i] = digits[bytes[i] >> 4];
		hex[2 * i + 1] = digits[bytes[i] & 0x0f];
	}
	hex[2 * sizeof(bytes)] = '\0';
	return set;
}

static bool mint_add_extension(X509 *certificate, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	bool added = extension != NULL && X509_add_ext(certificate, extension, -1) == 1;

	X509_EXTENSION_free(extension);
	return added;
}

/* dNSName DOMAIN and otherName id-on-xmppAddr, a UTF8String DOMAIN; built
 * as structures, not from configuration text, so no character of the
 * domain can be read as syntax. */
static GENERAL_NAMES *mint_alt_names(const char *domain)
{
	GENERAL_NAMES *names = GENERAL_NAMES_new();
	GENERAL_NAME *dns = GENERAL_NAME_new(), *xmpp = GENERAL_NAME_new();
	ASN1_IA5STRING *dns_value = ASN1_IA5STRING_new();
	ASN1_UTF8STRING *utf8 = ASN1_UTF8STRING_new();
	ASN1_OBJECT *oid = OBJ_txt2obj(XMPP_ADDR_OID, 1);
	ASN1_TYPE *xmpp_value = ASN1_TYPE_new();

	if (names == NULL || dns == NULL || xmpp == NULL || dns_value == NULL || utf8 == NULL ||
	    oid == NULL || xmpp_value == NULL || !ASN1_STRING_set(dns_value, domain, -1) ||
	    !ASN1_STRING_set(utf8, domain, -1))
		goto fail;
	GENERAL_NAME_set0_value(dns, GEN_DNS, dns_value);
	dns_value = NULL;
	ASN1_TYPE_set(xmpp_value, V_ASN1_UTF8STRING, utf8);
	utf8 = NULL;
	if (!GENERAL_NAME_set0_othername(xmpp, oid, xmpp_value))
		goto fail;
	oid = NULL;
	xmpp_value = NULL;
	if (!sk_GENERAL_NAME_push(names, dns))
		goto fail;
	dns = NULL;
	if (!sk_GENERAL_NAME_push(names, xmpp))
		goto fail;
	return names;
fail:
	GENERAL_NAMES_free(names);
	GENERAL_NAME_free(dns);
	GENERAL_NAME_free(xmpp);
	ASN1_IA5STRING_free(dns_value);
	ASN1_UTF8STRING_free(utf8);
	ASN1_OBJECT_free(oid);
	ASN1_TYPE_free(xmpp_value);
	return NULL;
}

static bool mint_extensions(const struct tls_mint *mint, X509 *certificate, const char *domain)
{
	GENERAL_NAMES *names;
	X509V3_CTX ctx;
	bool added;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, mint->ca_certificate, certificate, NULL, NULL, 0);
	if (!mint_add_extension(certificate, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
	    !mint_add_extension(certificate, &ctx, NID_key_usage, "critical,digitalSignature") ||
	    /* the edge presents it as server and as client */
	    !mint_add_extension(certificate, &ctx, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    !mint_add_extension(certificate, &ctx, NID_subject_key_identifier, "hash") ||
	    /* "keyid" without ":always": a CA without a key identifier is still usable */
	    !mint_add_extension(certificate, &ctx, NID_authority_key_identifier, "keyid"))
		return false;
	names = mint_alt_names(domain);
	added = names != NULL && X509_add1_ext_i2d(certificate, NID_subject_alt_name, names, 0,
						   X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(names);
	return added;
}

/* A new leaf for DOMAIN, valid from NOW - TLS_MINT_BACKDATE_S to NOW +
 * validity, written into LEAF (whose domain the caller sets). */
static bool mint_leaf(const struct tls_mint *mint, const char *domain, time_t now,
		      struct minted_leaf *leaf)
{
	X509 *certificate = X509_new();
	X509_NAME *subject;
	bool made;

	leaf->not_before = now - TLS_MINT_BACKDATE_S;
	leaf->not_after = now + (time_t)mint->validity_s;
	made = certificate != NULL && X509_set_version(certificate, X509_VERSION_3) &&
	       mint_serial(certificate, leaf->serial) &&
	       ASN1_TIME_set(X509_getm_notBefore(certificate), leaf->not_before) != NULL &&
	       ASN1_TIME_set(X509_getm_notAfter(certificate), leaf->not_after) != NULL &&
	       X509_set_issuer_name(certificate, X509_get_subject_name(mint->ca_certificate)) &&
	       X509_set_pubkey(certificate, mint->leaf_key);
	if (made) {
		subject = X509_get_subject_name(certificate);
		made = X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
						  (const unsigned char *)domain, -1, -1, 0) &&
		       mint_extensions(mint, certificate, domain) &&
		       X509_sign(certificate, mint->ca_key, mint->digest) > 0;
	}
	if (made)
		leaf->identity = tls_identity_new(certificate, mint->leaf_key);
	X509_free(certificate);
	ERR_clear_error();
	return made && leaf->identity != NULL;
}

/* Worth handing out at NOW: already valid, and more than a quarter of its
 * validity left, so a connection set up with it does not see it expire soon. */
static bool minted_leaf_current(const struct tls_mint *mint, const struct minted_leaf *leaf,
				time_t now)
{
	return now >= leaf->not_before && leaf->not_after - now > (time_t)(mint->validity_s / 4);
}

static struct minted_leaf *mint_find(struct tls_mint *mint, const char *domain)
{
	size_t i;

	for (i = 0; i < mint->n_leaves; i++) {
		if (strcmp(mint->leaves[i].domain, domain) == 0)
			return &mint->leaves[i];
	}
	return NULL;
}

/* Room for one more leaf below the cap; false when out of memory. */
static bool mint_grow(struct tls_mint *mint)
{
	size_t capacity = mint->capacity == 0 ? 16 : 2 * mint->capacity;
	struct minted_leaf *leaves;

	if (capacity > TLS_MINT_CACHE_MAX)
		capacity = TLS_MINT_CACHE_MAX;
	leaves = realloc(mint->leaves, capacity * sizeof(*leaves));
	if (leaves == NULL)
		return false;
	mint->leaves = leaves;
	mint->capacity = capacity;
	return true;
}

/* A slot for a new domain: a free one, else the oldest leaf's; NULL when
 * out of memory. */
static struct minted_leaf *mint_slot(struct tls_mint *mint)
{
	struct minted_leaf *oldest;
	size_t i;

	if (mint->n_leaves < TLS_MINT_CACHE_MAX) {
		if (mint->n_leaves == mint->capacity && !mint_grow(mint))
			return NULL;
		return &mint->leaves[mint->n_leaves++];
	}
	oldest = &mint->leaves[0];
	for (i = 1; i < mint->n_leaves; i++) {
		if (mint->leaves[i].minted < oldest->minted)
			oldest = &mint->leaves[i];
	}
	minted_leaf_clear(oldest);
	return oldest;
}

static void minted_out(const struct minted_leaf *leaf, bool fresh, struct tls_minted *out)
{
	out->identity = leaf->identity;
	memcpy(out->serial, leaf->serial, sizeof(leaf->serial));
	out->not_before = leaf->not_before;
	out->not_after = leaf->not_after;
	out->fresh = fresh;
}

int tls_mint_identity(struct tls_mint *mint, const char *domain, time_t now, struct tls_minted *out)
{
	struct minted_leaf *cached, *slot, made;

	if (!tls_mint_domain_valid(domain))
		return -1;
	cached = mint_find(mint, domain);
	if (cached != NULL && minted_leaf_current(mint, cached, now)) {
		minted_out(cached, false, out);
		return 0;
	}
	memset(&made, 0, sizeof(made));
	made.domain = strdup(domain);
	if (made.domain == NULL || !mint_leaf(mint, domain, now, &made)) {
		minted_leaf_clear(&made);
		return -1;
	}
	slot = cached != NULL ? cached : mint_slot(mint);
	if (slot == NULL) {
		minted_leaf_clear(&made);
		return -1;
	}
	if (slot == cached)
		minted_leaf_clear(slot);
	made.minted = ++mint->count;
	*slot = made;
	minted_out(slot, true, out);
	return 0;
}
