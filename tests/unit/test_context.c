/* SPDX-License-Identifier: ISC */
/* test_context: the edge configuration of the fake-connection suites. */
#include "test_context.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "fake_conn.h"
#include "protocols.h"
#include "session.h"
#include "test_pki.h"
#include "tls.h"

/* %1$s: the test PKI's edge certificate, %2$s its key, %3$s the CA. */
static const char config_format[] = "[global]\n"
				    "domains = example.test\n"
				    "[listener access]\n"
				    "role = access\n"
				    "address = 127.0.0.1\n"
				    "port = 443\n"
				    "certificate = %1$s\n"
				    "key = %2$s\n"
				    "[listener internal]\n"
				    "role = internal\n"
				    "address = 127.0.0.2\n"
				    "port = 5061\n"
				    "certificate = %1$s\n"
				    "key = %2$s\n"
				    "ca_file = %3$s\n"
				    "client_certificate = required\n"
				    "[pool]\n"
				    "fqdn = pool1.example.test\n"
				    "relay = 127.0.0.10:5061\n"
				    "connections = 1\n"
				    "reconnect_min = 1\n"
				    "reconnect_max = 4\n";

void test_context_init(struct test_context *test, bool start)
{
	char path[] = "/tmp/sxedge-test-context.XXXXXX";
	char err[256], text[2048];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	char *certificate = test_pki_path("edge.crt"), *key = test_pki_path("edge.key");
	char *ca = test_pki_path("ca.crt");
	int len = snprintf(text, sizeof(text), config_format, certificate, key, ca);
	ck_assert_int_eq(write(fd, text, (size_t)len), len);
	close(fd);
	test->config = config_load(path, stderr, &sxedge_protocols.schema);
	unlink(path);
	ck_assert_ptr_nonnull(test->config);
	test->base = event_base_new();
	ck_assert_ptr_nonnull(test->base);
	ck_assert_int_eq(sip_context_init(&test->sip, test->base, test->config, err, sizeof(err)),
			 0);
	test->metrics = metrics_new();
	ck_assert_ptr_nonnull(test->metrics);
	sip_metrics_init(&test->sip.metrics, test->metrics);
	test->client = tls_client_new(certificate, key, ca, err, sizeof(err));
	ck_assert_msg(test->client != NULL, "%s", err);
	free(certificate);
	free(key);
	free(ca);
	if (start)
		ck_assert_int_eq(sip_context_start(&test->sip, test->client, NULL), 0);
}

void test_context_free(struct test_context *test)
{
	sip_context_free(&test->sip);
	metrics_free(test->metrics);
	fake_conn_free_all();
	tls_client_release(test->client);
	event_base_free(test->base);
	config_unref(test->config);
}

struct conn *test_context_user(struct test_context *test, const char *peer_address, uint16_t port)
{
	struct sockaddr_storage peer;
	int peer_len = address_parse(peer_address, port, &peer);

	ck_assert_int_gt(peer_len, 0);
	sip_session_accept(&test->sip, ROLE_ACCESS, NULL, -1, (struct sockaddr *)&peer, peer_len);
	struct conn *conn = fake_conn_newest();
	fake_conn_ready(conn);
	return conn;
}

long long test_context_metric(const struct test_context *test, const char *series)
{
	struct evbuffer *page = evbuffer_new();
	long long value = -1;

	ck_assert_ptr_nonnull(page);
	ck_assert_int_eq(metrics_render(test->metrics, page), 0);
	evbuffer_add(page, "", 1);
	const char *text = (const char *)evbuffer_pullup(page, -1);
	size_t length = strlen(series);
	for (const char *line = text; *line != '\0'; line = strchr(line, '\n') + 1) {
		if (strncmp(line, series, length) == 0 && line[length] == ' ') {
			value = strtoll(line + length + 1, NULL, 10);
			break;
		}
		if (strchr(line, '\n') == NULL)
			break;
	}
	evbuffer_free(page);
	return value;
}
