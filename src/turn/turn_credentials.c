/* SPDX-License-Identifier: ISC */
/* turn_credentials: ephemeral TURN usernames judged, their passwords and
 * long-term keys computed (the scheme in turn_credentials.h). */
#include "turn_credentials.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SHA1_SIZE 20

static const char *const status_names[] = {
	[TURN_USERNAME_OK] = "ok",
	[TURN_USERNAME_EXPIRED] = "expired",
	[TURN_USERNAME_EMPTY] = "empty",
	[TURN_USERNAME_TOO_LONG] = "too_long",
	[TURN_USERNAME_NO_COLON] = "no_colon",
	[TURN_USERNAME_BAD_EXPIRY] = "bad_expiry",
	[TURN_USERNAME_EXPIRY_OVERFLOW] = "expiry_overflow",
	[TURN_USERNAME_EMPTY_USER] = "empty_user",
	[TURN_USERNAME_CONTROL_CHARACTER] = "control_character",
};

const char *turn_username_status_name(enum turn_username_status status)
{
	if ((size_t)status >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[status];
}

/* ---- the username ---- */

/* Reads the decimal digits of [TEXT, TEXT + LENGTH) into *VALUE. */
static enum turn_username_status parse_expiry(const char *text, size_t length, uint64_t *value)
{
	uint64_t result = 0;
	size_t i;

	if (length == 0)
		return TURN_USERNAME_BAD_EXPIRY;
	for (i = 0; i < length; i++)
		if (text[i] < '0' || text[i] > '9')
			return TURN_USERNAME_BAD_EXPIRY;
	/* Digits only: now the size, so that "1x" with a huge prefix is
	 * bad_expiry rather than overflow. */
	for (i = 0; i < length; i++) {
		unsigned digit = (unsigned)(text[i] - '0');
		if (result > (UINT64_MAX - digit) / 10)
			return TURN_USERNAME_EXPIRY_OVERFLOW;
		result = result * 10 + digit;
	}
	*value = result;
	return TURN_USERNAME_OK;
}

enum turn_username_status turn_username_parse(const char *username, size_t length, uint64_t now,
					      struct turn_username *out)
{
	struct turn_username parsed;
	enum turn_username_status status;
	const char *colon;
	size_t i;

	if (length == 0)
		return TURN_USERNAME_EMPTY;
	if (length > TURN_USERNAME_MAX_LENGTH)
		return TURN_USERNAME_TOO_LONG;
	/* A username ends up in logs as user=; a control byte there could
	 * forge a line or a field. */
	for (i = 0; i < length; i++) {
		unsigned char byte = (unsigned char)username[i];
		if (byte < 0x20 || byte == 0x7f)
			return TURN_USERNAME_CONTROL_CHARACTER;
	}
	colon = memchr(username, ':', length);
	if (colon == NULL)
		return TURN_USERNAME_NO_COLON;
	status = parse_expiry(username, (size_t)(colon - username), &parsed.expiry);
	if (status != TURN_USERNAME_OK)
		return status;
	parsed.user = colon + 1;
	parsed.user_length = length - (size_t)(parsed.user - username);
	if (parsed.user_length == 0)
		return TURN_USERNAME_EMPTY_USER;
	if (out != NULL)
		*out = parsed;
	return now > parsed.expiry ? TURN_USERNAME_EXPIRED : TURN_USERNAME_OK;
}

/* ---- the password and the key ---- */

bool turn_password(const void *secret, size_t secret_length, const char *username,
		   size_t username_length, char password[TURN_PASSWORD_SIZE])
{
	unsigned char digest[SHA1_SIZE];
	unsigned int digest_length = 0;
	bool made;

	/* HMAC() with a NULL output buffer would use a static one; ours is
	 * on the stack.  An empty secret is still a key for HMAC. */
	made = secret_length <= INT_MAX &&
	       HMAC(EVP_sha1(), secret, (int)secret_length, (const unsigned char *)username,
		    username_length, digest, &digest_length) != NULL &&
	       digest_length == SHA1_SIZE;
	if (made)
		EVP_EncodeBlock((unsigned char *)password, digest, SHA1_SIZE);
	else
		password[0] = '\0';
	OPENSSL_cleanse(digest, sizeof(digest));
	return made;
}

size_t turn_long_term_key(enum turn_password_algorithm algorithm, const char *username,
			  size_t username_length, const char *realm, size_t realm_length,
			  const char *password, size_t password_length,
			  unsigned char key[TURN_KEY_MAX_SIZE])
{
	const EVP_MD *digest;
	EVP_MD_CTX *context;
	unsigned int key_length = 0;
	bool made;

	memset(key, 0, TURN_KEY_MAX_SIZE);
	switch (algorithm) {
	case TURN_PASSWORD_ALGORITHM_MD5:
		digest = EVP_md5();
		break;
	case TURN_PASSWORD_ALGORITHM_SHA256:
		digest = EVP_sha256();
		break;
	default:
		return 0;
	}
	context = EVP_MD_CTX_new();
	made = context != NULL && EVP_DigestInit_ex(context, digest, NULL) == 1 &&
	       EVP_DigestUpdate(context, username, username_length) == 1 &&
	       EVP_DigestUpdate(context, ":", 1) == 1 &&
	       EVP_DigestUpdate(context, realm, realm_length) == 1 &&
	       EVP_DigestUpdate(context, ":", 1) == 1 &&
	       EVP_DigestUpdate(context, password, password_length) == 1 &&
	       EVP_DigestFinal_ex(context, key, &key_length) == 1;
	EVP_MD_CTX_free(context); /* cleanses the digest state */
	if (!made || key_length > TURN_KEY_MAX_SIZE) {
		OPENSSL_cleanse(key, TURN_KEY_MAX_SIZE);
		return 0;
	}
	return key_length;
}

size_t turn_ephemeral_key(const void *secret, size_t secret_length,
			  enum turn_password_algorithm algorithm, const char *username,
			  size_t username_length, const char *realm, size_t realm_length,
			  unsigned char key[TURN_KEY_MAX_SIZE])
{
	char password[TURN_PASSWORD_SIZE];
	size_t key_length = 0;

	memset(key, 0, TURN_KEY_MAX_SIZE);
	if (turn_password(secret, secret_length, username, username_length, password))
		key_length = turn_long_term_key(algorithm, username, username_length, realm,
						realm_length, password, TURN_PASSWORD_LENGTH, key);
	OPENSSL_cleanse(password, sizeof(password));
	return key_length;
}
