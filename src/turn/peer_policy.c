/* SPDX-License-Identifier: ISC */
/* peer_policy: the verdict on a TURN peer address (the ranges, the IPv6
 * spellings of IPv4 and the allow list in peer_policy.h).
 *
 * Two tables of ranges, searched in order (so a narrower range that must
 * win comes before the wider one holding it), and one function that finds
 * the IPv4 address an IPv6 one stands for. */
#include "peer_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static const char *const verdict_names[] = {
	[PEER_ALLOWED] = "allowed",
	[PEER_REFUSED_FAMILY] = "family",
	[PEER_REFUSED_UNSPECIFIED] = "unspecified",
	[PEER_REFUSED_THIS_NETWORK] = "this_network",
	[PEER_REFUSED_LOOPBACK] = "loopback",
	[PEER_REFUSED_PRIVATE] = "private",
	[PEER_REFUSED_SHARED] = "shared",
	[PEER_REFUSED_LINK_LOCAL] = "link_local",
	[PEER_REFUSED_SITE_LOCAL] = "site_local",
	[PEER_REFUSED_UNIQUE_LOCAL] = "unique_local",
	[PEER_REFUSED_MULTICAST] = "multicast",
	[PEER_REFUSED_BROADCAST] = "broadcast",
	[PEER_REFUSED_DOCUMENTATION] = "documentation",
	[PEER_REFUSED_BENCHMARKING] = "benchmarking",
	[PEER_REFUSED_RESERVED] = "reserved",
	[PEER_REFUSED_EDGE] = "edge",
};

const char *peer_verdict_name(enum peer_verdict verdict)
{
	if ((size_t)verdict >= sizeof(verdict_names) / sizeof(verdict_names[0]))
		return "unknown";
	return verdict_names[verdict];
}

static const char *const prefix_error_messages[] = {
	[PEER_PREFIX_OK] = "a prefix",
	[PEER_PREFIX_EMPTY] = "no address",
	[PEER_PREFIX_BAD_ADDRESS] = "not an IPv4 or IPv6 address",
	[PEER_PREFIX_BAD_LENGTH] = "the prefix length after '/' is not a decimal number",
	[PEER_PREFIX_LENGTH_TOO_LONG] = "the prefix length is longer than the address",
	[PEER_PREFIX_HOST_BITS] = "bits are set after the prefix length",
};

const char *peer_prefix_error_message(enum peer_prefix_error error)
{
	if ((size_t)error >= sizeof(prefix_error_messages) / sizeof(prefix_error_messages[0]))
		return "unknown error";
	return prefix_error_messages[error];
}

/* ---- the ranges ---- */

struct ipv4_range {
	uint32_t base;
	unsigned length;
	enum peer_verdict verdict;
};

static const struct ipv4_range ipv4_ranges[] = {
	{ 0x00000000, 32, PEER_REFUSED_UNSPECIFIED }, /* 0.0.0.0 */
	{ 0x00000000, 8, PEER_REFUSED_THIS_NETWORK }, /* 0.0.0.0/8 */
	{ 0x0a000000, 8, PEER_REFUSED_PRIVATE }, /* 10.0.0.0/8 */
	{ 0x64400000, 10, PEER_REFUSED_SHARED }, /* 100.64.0.0/10 */
	{ 0x7f000000, 8, PEER_REFUSED_LOOPBACK }, /* 127.0.0.0/8 */
	{ 0xa9fe0000, 16, PEER_REFUSED_LINK_LOCAL }, /* 169.254.0.0/16 */
	{ 0xac100000, 12, PEER_REFUSED_PRIVATE }, /* 172.16.0.0/12 */
	{ 0xc0000000, 24, PEER_REFUSED_RESERVED }, /* 192.0.0.0/24 */
	{ 0xc0000200, 24, PEER_REFUSED_DOCUMENTATION }, /* 192.0.2.0/24 */
	{ 0xc0a80000, 16, PEER_REFUSED_PRIVATE }, /* 192.168.0.0/16 */
	{ 0xc6120000, 15, PEER_REFUSED_BENCHMARKING }, /* 198.18.0.0/15 */
	{ 0xc6336400, 24, PEER_REFUSED_DOCUMENTATION }, /* 198.51.100.0/24 */
	{ 0xcb007100, 24, PEER_REFUSED_DOCUMENTATION }, /* 203.0.113.0/24 */
	{ 0xe0000000, 4, PEER_REFUSED_MULTICAST }, /* 224.0.0.0/4 */
	{ 0xffffffff, 32, PEER_REFUSED_BROADCAST }, /* 255.255.255.255 */
	{ 0xf0000000, 4, PEER_REFUSED_RESERVED }, /* 240.0.0.0/4 */
};

struct ipv6_range {
	unsigned char base[16];
	unsigned length;
	enum peer_verdict verdict;
};

/* Searched after :: and ::1 and after the embeddings; whatever is left
 * outside 2000::/3 is reserved. */
static const struct ipv6_range ipv6_ranges[] = {
	{ { 0xfe, 0x80 }, 10, PEER_REFUSED_LINK_LOCAL }, /* fe80::/10 */
	{ { 0xfe, 0xc0 }, 10, PEER_REFUSED_SITE_LOCAL }, /* fec0::/10, RFC 3879 */
	{ { 0xfc }, 7, PEER_REFUSED_UNIQUE_LOCAL }, /* fc00::/7 */
	{ { 0xff }, 8, PEER_REFUSED_MULTICAST }, /* ff00::/8 */
	{ { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48, PEER_REFUSED_PRIVATE }, /* 64:ff9b:1::/48 */
	{ { 0x01, 0x00 }, 64, PEER_REFUSED_RESERVED }, /* 100::/64, discard */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, PEER_REFUSED_DOCUMENTATION }, /* 2001:db8::/32 */
	{ { 0x3f, 0xff }, 20, PEER_REFUSED_DOCUMENTATION }, /* 3fff::/20, RFC 9637 */
	{ { 0x20, 0x01, 0x00, 0x02 }, 48, PEER_REFUSED_BENCHMARKING }, /* 2001:2::/48 */
	{ { 0x20, 0x01, 0x00, 0x10 }, 28, PEER_REFUSED_RESERVED }, /* 2001:10::/28, ORCHID */
	{ { 0x20, 0x01, 0x00, 0x20 }, 28, PEER_REFUSED_RESERVED }, /* 2001:20::/28, ORCHIDv2 */
};

/* Do the first LENGTH bits of A and B agree? */
static bool bits_match(const unsigned char *a, const unsigned char *b, unsigned length)
{
	unsigned whole = length / 8, rest = length % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return ((a[whole] ^ b[whole]) & mask) == 0;
}

static enum peer_verdict judge_ipv4(uint32_t address)
{
	size_t i;

	for (i = 0; i < sizeof(ipv4_ranges) / sizeof(ipv4_ranges[0]); i++) {
		unsigned length = ipv4_ranges[i].length;
		uint32_t mask = length == 0 ? 0 : 0xffffffffu << (32 - length);
		if ((address & mask) == ipv4_ranges[i].base)
			return ipv4_ranges[i].verdict;
	}
	return PEER_ALLOWED;
}

static uint32_t get_be32(const unsigned char *bytes)
{
	return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 |
	       bytes[3];
}

/* Sets *EMBEDDED (host order) to the IPv4 address that the IPv6 address
 * A stands for, when it is one of the spellings in peer_policy.h. */
static bool ipv6_embedded_ipv4(const unsigned char a[16], uint32_t *embedded)
{
	static const unsigned char zero[12] = { 0 };
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const unsigned char translated[12] = { [8] = 0xff, [9] = 0xff };
	static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };

	if (memcmp(a, mapped, 12) == 0 || memcmp(a, translated, 12) == 0 ||
	    memcmp(a, nat64, 12) == 0) {
		*embedded = get_be32(a + 12);
		return true;
	}
	if (memcmp(a, zero, 12) == 0 && get_be32(a + 12) > 1) { /* not :: or ::1 */
		*embedded = get_be32(a + 12);
		return true;
	}
	if (a[0] == 0x20 && a[1] == 0x02) { /* 6to4 */
		*embedded = get_be32(a + 2);
		return true;
	}
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00) { /* Teredo */
		*embedded = ~get_be32(a + 12);
		return true;
	}
	return false;
}

static enum peer_verdict judge_ipv6(const unsigned char a[16])
{
	uint32_t embedded;
	size_t i;

	if (IN6_IS_ADDR_UNSPECIFIED((const struct in6_addr *)a))
		return PEER_REFUSED_UNSPECIFIED;
	if (IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)a))
		return PEER_REFUSED_LOOPBACK;
	if (ipv6_embedded_ipv4(a, &embedded))
		return judge_ipv4(embedded);
	for (i = 0; i < sizeof(ipv6_ranges) / sizeof(ipv6_ranges[0]); i++)
		if (bits_match(a, ipv6_ranges[i].base, ipv6_ranges[i].length))
			return ipv6_ranges[i].verdict;
	if ((a[0] & 0xe0) != 0x20) /* 2000::/3, global unicast */
		return PEER_REFUSED_RESERVED;
	return PEER_ALLOWED;
}

/* ---- prefixes ---- */

enum peer_prefix_error peer_prefix_parse(const char *text, size_t length, struct peer_prefix *out)
{
	char host[INET6_ADDRSTRLEN];
	struct peer_prefix prefix;
	const char *slash = memchr(text, '/', length);
	size_t host_length = slash != NULL ? (size_t)(slash - text) : length;
	unsigned bits, max_bits, value = 0;
	size_t i;

	memset(&prefix, 0, sizeof(prefix));
	if (host_length == 0)
		return PEER_PREFIX_EMPTY;
	if (host_length >= sizeof(host) || memchr(text, '\0', host_length) != NULL)
		return PEER_PREFIX_BAD_ADDRESS;
	memcpy(host, text, host_length);
	host[host_length] = '\0';
	if (inet_pton(AF_INET, host, prefix.address) == 1) {
		prefix.family = AF_INET;
		max_bits = 32;
	} else if (inet_pton(AF_INET6, host, prefix.address) == 1) {
		prefix.family = AF_INET6;
		max_bits = 128;
	} else {
		return PEER_PREFIX_BAD_ADDRESS;
	}
	if (slash == NULL) {
		bits = max_bits;
	} else {
		const char *digits = slash + 1;
		size_t digit_count = length - host_length - 1;

		/* "/", "/x", "/08": only one spelling of each length */
		if (digit_count == 0 || digit_count > 3 || (digit_count > 1 && digits[0] == '0'))
			return PEER_PREFIX_BAD_LENGTH;
		for (i = 0; i < digit_count; i++) {
			if (digits[i] < '0' || digits[i] > '9')
				return PEER_PREFIX_BAD_LENGTH;
			value = value * 10 + (unsigned)(digits[i] - '0');
		}
		if (value > max_bits)
			return PEER_PREFIX_LENGTH_TOO_LONG;
		bits = value;
	}
	prefix.length = (unsigned char)bits;
	/* The bits after the length must be zero: "10.1.2.3/8" is almost
	 * always a typo for a host or for another length. */
	for (i = bits; i < max_bits; i++)
		if (prefix.address[i / 8] & (0x80 >> (i % 8)))
			return PEER_PREFIX_HOST_BITS;
	*out = prefix;
	return PEER_PREFIX_OK;
}

/* The bytes of ADDRESS's IP (4 or 16), or NULL for another family. */
static const unsigned char *address_bytes(const struct sockaddr_storage *address)
{
	if (address->ss_family == AF_INET)
		return (const unsigned char *)&((const struct sockaddr_in *)address)->sin_addr;
	if (address->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)address)->sin6_addr.s6_addr;
	return NULL;
}

static bool prefix_contains_bytes(const struct peer_prefix *prefix, sa_family_t family,
				  const unsigned char *bytes)
{
	return prefix->family == family && bits_match(prefix->address, bytes, prefix->length);
}

bool peer_prefix_contains(const struct peer_prefix *prefix, const struct sockaddr_storage *address)
{
	const unsigned char *bytes = address_bytes(address);
	return bytes != NULL && prefix_contains_bytes(prefix, address->ss_family, bytes);
}

/* ---- the verdict ---- */

/* An address as the policy compares it: its own family and bytes, and the
 * IPv4 address it is or embeds, if any (network order). */
struct peer_view {
	sa_family_t family;
	const unsigned char *bytes;
	bool has_ipv4;
	unsigned char ipv4[4];
};

/* False for a family other than IPv4 and IPv6. */
static bool view_of(const struct sockaddr_storage *address, struct peer_view *view)
{
	uint32_t embedded;

	view->family = address->ss_family;
	view->bytes = address_bytes(address);
	view->has_ipv4 = false;
	if (view->bytes == NULL)
		return false;
	if (view->family == AF_INET) {
		view->has_ipv4 = true;
		memcpy(view->ipv4, view->bytes, 4);
	} else if (ipv6_embedded_ipv4(view->bytes, &embedded)) {
		uint32_t network = htonl(embedded);
		view->has_ipv4 = true;
		memcpy(view->ipv4, &network, 4);
	}
	return true;
}

static bool view_in_prefix(const struct peer_view *peer, const struct peer_prefix *prefix)
{
	return prefix_contains_bytes(prefix, peer->family, peer->bytes) ||
	       (peer->has_ipv4 && prefix_contains_bytes(prefix, AF_INET, peer->ipv4));
}

/* The same address, or the same IPv4 address in any of its spellings. */
static bool views_match(const struct peer_view *a, const struct peer_view *b)
{
	if (a->family == b->family &&
	    memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0)
		return true;
	return a->has_ipv4 && b->has_ipv4 && memcmp(a->ipv4, b->ipv4, 4) == 0;
}

enum peer_verdict peer_policy_check(const struct peer_policy *policy,
				    const struct sockaddr_storage *peer)
{
	struct peer_view view, own;
	size_t i;

	if (!view_of(peer, &view))
		return PEER_REFUSED_FAMILY;
	for (i = 0; i < policy->allowed_count; i++)
		if (view_in_prefix(&view, &policy->allowed[i]))
			return PEER_ALLOWED;
	for (i = 0; i < policy->own_count; i++)
		if (view_of(&policy->own[i], &own) && views_match(&view, &own))
			return PEER_REFUSED_EDGE;
	if (view.family == AF_INET)
		return judge_ipv4(get_be32(view.bytes));
	return judge_ipv6(view.bytes);
}
