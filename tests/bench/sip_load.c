/* SPDX-License-Identifier: ISC */
/* bench/sip_load: a TLS load generator for tests/bench/sip-relay.  Debian's
 * sipp has no TLS, and an stunnel in front of it would cost the load core
 * a second TLS hop, so this opens its own persistent TLS connections to an
 * edge's access port and sends SIP MESSAGE requests over them.
 *
 * Open loop (-r RATE): a timer sends what is due at RATE messages per second
 * in total, round robin over the connections, whatever the answers do, so a
 * slow edge shows as latency and failures, not as a lower offered rate.
 * Closed loop (-r 0): WINDOW requests are kept outstanding, which measures
 * the most the edge relays.
 *
 * Each request carries its sequence number in its Call-ID; the final answer
 * with that Call-ID (and CSeq method MESSAGE) ends it.  Latency is from the
 * moment the request is handed to TLS to the moment its answer is read.  A
 * request with no final answer within TIMEOUT, or with one that is not 2xx,
 * is a failure.  -E and -K give a client certificate and key, for a peer
 * that asks for one (the pool, to time it alone).  With -P PID (repeatable)
 * the utime + stime those processes used from the first request to the end
 * is reported too, per answered request.  The result is one line of
 * key=value pairs on stdout. */
#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_PIDS       64
#define MAX_CPUS       64
#define INPUT_SIZE     65536
#define REQUEST_SIZE   1024
#define TIMEOUT_PERIOD 0.05 /* seconds between scans for timed-out requests */

enum request_state {
	REQUEST_UNSENT,
	REQUEST_SENT,
	REQUEST_OK,
	REQUEST_FAILED
};

struct request {
	double sent_at;
	double latency;
	unsigned char state;
};

struct connection {
	unsigned index;
	int fd;
	SSL *ssl;
	struct event *event;
	bool alive;
	/* plaintext the socket could not take yet; retry_length is what the
	 * last SSL_write that wanted to write was given (it must be retried
	 * with the same bytes) */
	struct evbuffer *output;
	size_t retry_length;
	char input[INPUT_SIZE];
	size_t input_length;
};

struct options {
	const char *address;
	unsigned port;
	unsigned connections;
	double rate;
	unsigned window;
	double seconds;
	double timeout;
	const char *ca_file;
	const char *server_name;
	const char *certificate; /* a client certificate, for a peer that asks */
	const char *key;
	pid_t pids[MAX_PIDS];
	unsigned pid_count;
};

static struct options options = {
	.address = "127.0.0.1",
	.port = 443,
	.connections = 1,
	.rate = 1000,
	.window = 200,
	.seconds = 4,
	.timeout = 3,
	.server_name = "edge.example.test",
};

static struct event_base *base;
static struct connection *connections;
static struct request *requests;
static size_t request_capacity;
static size_t sent_count; /* requests handed to TLS (their sequence numbers: 0..) */
static size_t oldest_open; /* every request before this one is finished */
static size_t ok_count, failed_count, timeout_count, answered_count;
static size_t status_count[700]; /* final answers other than 2xx, by status */
static size_t in_flight;
static unsigned run_id; /* in every Call-ID and branch: a stateful edge must not take a
			 * request of this run for one of the run before */
static unsigned next_connection;
static unsigned closed_connections;
static double start_time, end_time, last_ok_time, finish_time;
static double own_cpu_before; /* this process's CPU before the first request, in µs */
static bool sending = true;
static struct event *pace_timer, *timeout_timer;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "sip_load: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(2);
}

/* ---- CPU time of the measured processes ---- */

/* utime + stime of PID in clock ticks (fields 14 and 15 of /proc/PID/stat;
 * the command name, field 2, may hold spaces, so count from its ')'). */
static unsigned long long process_ticks(pid_t pid)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *file = fopen(path, "r");
	if (file == NULL) {
		return 0;
	}
	size_t length = fread(line, 1, sizeof(line) - 1, file);
	fclose(file);
	line[length] = '\0';
	char *cursor = strrchr(line, ')');
	if (cursor == NULL) {
		return 0;
	}
	unsigned long long utime = 0, stime = 0;
	/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime */
	if (sscanf(cursor + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
		   &stime) != 2) {
		return 0;
	}
	return utime + stime;
}

static unsigned long long measured_ticks(void)
{
	unsigned long long total = 0;
	for (unsigned i = 0; i < options.pid_count; i++) {
		total += process_ticks(options.pids[i]);
	}
	return total;
}

/* Busy and total ticks of each CPU (the cpuN lines of /proc/stat), to tell
 * what the measured processes used from what else ran on their core. */
struct cpu_times {
	unsigned long long busy[MAX_CPUS], total[MAX_CPUS];
	unsigned count;
};

static void read_cpu_times(struct cpu_times *times)
{
	memset(times, 0, sizeof(*times));
	FILE *file = fopen("/proc/stat", "r");
	if (file == NULL) {
		return;
	}
	char line[512];
	while (fgets(line, sizeof(line), file) != NULL) {
		unsigned cpu;
		unsigned long long field[8] = { 0 };
		if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &field[0],
			   &field[1], &field[2], &field[3], &field[4], &field[5], &field[6],
			   &field[7]) < 5 ||
		    cpu >= MAX_CPUS) {
			continue;
		}
		unsigned long long total = 0;
		for (unsigned i = 0; i < 8; i++) {
			total += field[i];
		}
		times->total[cpu] = total;
		times->busy[cpu] = total - field[3] - field[4]; /* less idle and iowait */
		if (cpu + 1 > times->count) {
			times->count = cpu + 1;
		}
	}
	fclose(file);
}

/* ---- writing ---- */

static void connection_lost(struct connection *connection)
{
	if (!connection->alive) {
		return;
	}
	connection->alive = false;
	closed_connections++;
	event_del(connection->event);
}

static void want_write(struct connection *connection, bool on)
{
	short events = EV_READ | EV_PERSIST | (on ? EV_WRITE : 0);
	if (event_get_events(connection->event) == events) {
		return;
	}
	event_del(connection->event);
	event_assign(connection->event, base, connection->fd, events,
		     event_get_callback(connection->event), connection);
	event_add(connection->event, NULL);
}

/* Writes what waits in the connection's output, one TLS record per call. */
static void flush_output(struct connection *connection)
{
	while (connection->alive && evbuffer_get_length(connection->output) > 0) {
		size_t length = connection->retry_length;
		if (length == 0) {
			length = evbuffer_get_length(connection->output);
			if (length > 16384) {
				length = 16384;
			}
		}
		void *bytes = evbuffer_pullup(connection->output, (ev_ssize_t)length);
		int written = SSL_write(connection->ssl, bytes, (int)length);
		if (written > 0) {
			evbuffer_drain(connection->output, (size_t)written);
			connection->retry_length = 0;
			continue;
		}
		int error = SSL_get_error(connection->ssl, written);
		if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
			connection->retry_length = length;
			want_write(connection, true);
			return;
		}
		connection_lost(connection);
		return;
	}
	if (connection->alive) {
		want_write(connection, false);
	}
}

static struct connection *pick_connection(void)
{
	for (unsigned tries = 0; tries < options.connections; tries++) {
		struct connection *connection = &connections[next_connection];
		next_connection = (next_connection + 1) % options.connections;
		if (connection->alive) {
			return connection;
		}
	}
	return NULL;
}

static void grow_requests(void)
{
	size_t capacity = request_capacity * 2;
	struct request *grown = realloc(requests, capacity * sizeof(*grown));
	if (grown == NULL) {
		die("out of memory");
	}
	memset(grown + request_capacity, 0, (capacity - request_capacity) * sizeof(*grown));
	requests = grown;
	request_capacity = capacity;
}

/* Sends request number sent_count; false when no connection is left. */
static bool send_request(void)
{
	struct connection *connection = pick_connection();
	if (connection == NULL) {
		return false;
	}
	if (sent_count == request_capacity) {
		grow_requests();
	}
	size_t sequence = sent_count;
	char body[96], request[REQUEST_SIZE];
	int body_length =
		snprintf(body, sizeof(body),
			 "Hello from the sip-relay bench, message %zu of this run.", sequence);
	int length =
		snprintf(request, sizeof(request),
			 "MESSAGE sip:bob@example.test SIP/2.0\r\n"
			 "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bK-load-%08x-%u-%zu;rport\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:user%u@example.test>;tag=load%zu\r\n"
			 "To: <sip:bob@example.test>\r\n"
			 "Call-ID: %zu-%08x-sip-load@127.0.0.1\r\n"
			 "CSeq: 1 MESSAGE\r\n"
			 "User-Agent: sxedge-sip-load\r\n"
			 "Content-Type: text/plain\r\n"
			 "Content-Length: %d\r\n"
			 "\r\n"
			 "%s",
			 run_id, connection->index, sequence, connection->index, sequence, sequence,
			 run_id, body_length, body);
	requests[sequence].state = REQUEST_SENT;
	requests[sequence].sent_at = now();
	sent_count++;
	in_flight++;
	evbuffer_add(connection->output, request, (size_t)length);
	if (connection->retry_length == 0) {
		flush_output(connection);
	}
	return true;
}

/* ---- reading ---- */

static bool all_done(void)
{
	return !sending && in_flight == 0;
}

static void finish_request(size_t sequence, int status, double at)
{
	struct request *request = &requests[sequence];
	if (request->state != REQUEST_SENT) {
		return; /* a retransmitted or late answer */
	}
	in_flight--;
	answered_count++;
	if (status >= 200 && status < 300) {
		request->state = REQUEST_OK;
		request->latency = at - request->sent_at;
		ok_count++;
		last_ok_time = at;
	} else {
		request->state = REQUEST_FAILED;
		failed_count++;
		status_count[status < 700 ? status : 699]++;
	}
	if (options.rate == 0 && sending) {
		send_request();
	}
}

/* The value of header NAME (or its compact form) in the header block, or NULL. */
static const char *header_value(const char *block, size_t length, const char *name,
				const char *compact, size_t *value_length)
{
	const char *line = memchr(block, '\n', length);
	const char *end = block + length;
	while (line != NULL && ++line < end) {
		const char *line_end = memchr(line, '\r', (size_t)(end - line));
		if (line_end == NULL) {
			line_end = end;
		}
		const char *colon = memchr(line, ':', (size_t)(line_end - line));
		if (colon != NULL) {
			const char *name_end = colon;
			while (name_end > line && (name_end[-1] == ' ' || name_end[-1] == '\t')) {
				name_end--;
			}
			size_t name_length = (size_t)(name_end - line);
			if ((name_length == strlen(name) &&
			     strncasecmp(line, name, name_length) == 0) ||
			    (name_length == strlen(compact) &&
			     strncasecmp(line, compact, name_length) == 0)) {
				const char *value = colon + 1;
				while (value < line_end && (*value == ' ' || *value == '\t')) {
					value++;
				}
				*value_length = (size_t)(line_end - value);
				return value;
			}
		}
		line = memchr(line, '\n', (size_t)(end - line));
	}
	return NULL;
}

/* Takes the complete messages off the connection's input; false on a
 * message this cannot frame. */
static bool read_messages(struct connection *connection)
{
	size_t offset = 0;
	double at = now();
	while (offset < connection->input_length) {
		char *message = connection->input + offset;
		size_t available = connection->input_length - offset;
		while (available >= 2 && message[0] == '\r' && message[1] == '\n') {
			message += 2; /* keep-alive CRLF */
			offset += 2;
			available -= 2;
		}
		const char *blank = NULL;
		for (size_t i = 0; i + 3 < available; i++) {
			if (memcmp(message + i, "\r\n\r\n", 4) == 0) {
				blank = message + i;
				break;
			}
		}
		if (blank == NULL) {
			break;
		}
		size_t header_length = (size_t)(blank - message) + 2;
		size_t value_length = 0;
		const char *value =
			header_value(message, header_length, "Content-Length", "l", &value_length);
		size_t body_length = value != NULL ? strtoul(value, NULL, 10) : 0;
		size_t total = header_length + 2 + body_length;
		if (total > INPUT_SIZE) {
			return false;
		}
		if (available < total) {
			break;
		}
		if (strncmp(message, "SIP/2.0 ", 8) == 0) {
			int status = atoi(message + 8);
			const char *call_id =
				header_value(message, header_length, "Call-ID", "i", &value_length);
			const char *cseq =
				header_value(message, header_length, "CSeq", "", &value_length);
			if (status >= 200 && call_id != NULL && isdigit((unsigned char)*call_id) &&
			    cseq != NULL && memmem(cseq, value_length, "MESSAGE", 7) != NULL) {
				char *rest;
				size_t sequence = strtoul(call_id, &rest, 10);
				if (sequence < sent_count && *rest == '-' &&
				    strtoul(rest + 1, NULL, 16) == run_id) {
					finish_request(sequence, status, at);
				}
			}
		}
		offset += total;
	}
	memmove(connection->input, connection->input + offset, connection->input_length - offset);
	connection->input_length -= offset;
	return true;
}

static void on_connection(evutil_socket_t fd, short events, void *argument)
{
	struct connection *connection = argument;
	(void)fd;
	if (events & EV_WRITE) {
		flush_output(connection);
	}
	if (!(events & EV_READ)) {
		return;
	}
	for (;;) {
		if (connection->input_length == INPUT_SIZE) {
			connection_lost(connection);
			return;
		}
		int got = SSL_read(connection->ssl, connection->input + connection->input_length,
				   (int)(INPUT_SIZE - connection->input_length));
		if (got <= 0) {
			int error = SSL_get_error(connection->ssl, got);
			if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
				connection_lost(connection);
			}
			break;
		}
		connection->input_length += (size_t)got;
		if (!read_messages(connection)) {
			connection_lost(connection);
			break;
		}
	}
	if (connection->retry_length > 0) {
		flush_output(connection);
	}
	if (all_done()) {
		event_base_loopbreak(base);
	}
}

/* ---- pacing and timeouts ---- */

static void stop_sending(void)
{
	sending = false;
	end_time = now();
	if (pace_timer != NULL) {
		event_del(pace_timer);
	}
}

static void on_pace(evutil_socket_t fd, short events, void *argument)
{
	(void)fd;
	(void)events;
	(void)argument;
	double at = now();
	if (at >= start_time + options.seconds) {
		stop_sending();
		return;
	}
	size_t due = (size_t)((at - start_time) * options.rate) + 1;
	while (sent_count < due) {
		if (!send_request()) {
			stop_sending();
			return;
		}
	}
}

static void on_timeout_scan(evutil_socket_t fd, short events, void *argument)
{
	(void)fd;
	(void)events;
	(void)argument;
	double at = now();
	if (sending && options.rate == 0 && at >= start_time + options.seconds) {
		stop_sending();
	}
	while (oldest_open < sent_count) {
		struct request *request = &requests[oldest_open];
		if (request->state == REQUEST_SENT) {
			if (request->sent_at + options.timeout > at) {
				break;
			}
			request->state = REQUEST_FAILED;
			in_flight--;
			timeout_count++;
			if (options.rate == 0 && sending) {
				send_request();
			}
		}
		oldest_open++;
	}
	if (all_done() || (!sending && at > end_time + options.timeout + 1)) {
		event_base_loopbreak(base);
	}
}

/* ---- connecting ---- */

static void connect_one(SSL_CTX *context, struct connection *connection,
			const struct sockaddr_in *target)
{
	connection->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connection->fd < 0 ||
	    connect(connection->fd, (const struct sockaddr *)target, sizeof(*target)) != 0) {
		die("cannot connect to the edge");
	}
	int on = 1;
	setsockopt(connection->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	connection->ssl = SSL_new(context);
	if (connection->ssl == NULL) {
		die("SSL_new failed");
	}
	SSL_set_fd(connection->ssl, connection->fd);
	SSL_set_tlsext_host_name(connection->ssl, options.server_name);
	SSL_set1_host(connection->ssl, options.server_name);
	SSL_set_mode(connection->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_connect(connection->ssl) != 1) {
		die("TLS handshake with the edge failed");
	}
	evutil_make_socket_nonblocking(connection->fd);
	connection->output = evbuffer_new();
	connection->event =
		event_new(base, connection->fd, EV_READ | EV_PERSIST, on_connection, connection);
	if (connection->output == NULL || connection->event == NULL) {
		die("out of memory");
	}
	event_add(connection->event, NULL);
	connection->alive = true;
}

static void connect_all(void)
{
	SSL_CTX *context = SSL_CTX_new(TLS_client_method());
	if (context == NULL) {
		die("SSL_CTX_new failed");
	}
	if (options.ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(context, options.ca_file, NULL) != 1) {
			die("cannot read the CA file");
		}
		SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
	}
	if (options.certificate != NULL &&
	    (SSL_CTX_use_certificate_chain_file(context, options.certificate) != 1 ||
	     SSL_CTX_use_PrivateKey_file(context, options.key ? options.key : options.certificate,
					 SSL_FILETYPE_PEM) != 1)) {
		die("cannot read the client certificate or key");
	}
	struct sockaddr_in target = { .sin_family = AF_INET, .sin_port = htons(options.port) };
	if (inet_pton(AF_INET, options.address, &target.sin_addr) != 1) {
		die("the address must be IPv4");
	}
	connections = calloc(options.connections, sizeof(*connections));
	if (connections == NULL) {
		die("out of memory");
	}
	for (unsigned i = 0; i < options.connections; i++) {
		connections[i].index = i;
		connect_one(context, &connections[i], &target);
	}
}

/* ---- results ---- */

static int compare_doubles(const void *left, const void *right)
{
	double a = *(const double *)left, b = *(const double *)right;
	return (a > b) - (a < b);
}

/* The value below which a fraction QUANTILE of the sorted VALUES lie. */
static double quantile(const double *values, size_t count, double fraction)
{
	if (count == 0) {
		return 0;
	}
	size_t rank = (size_t)ceil(fraction * (double)count);
	return values[rank > 0 ? rank - 1 : 0];
}

/* This process's utime + stime in µs. */
static double own_cpu(void)
{
	struct rusage usage;
	getrusage(RUSAGE_SELF, &usage);
	return (double)usage.ru_utime.tv_sec * 1e6 + (double)usage.ru_utime.tv_usec +
	       (double)usage.ru_stime.tv_sec * 1e6 + (double)usage.ru_stime.tv_usec;
}

static void report(unsigned long long ticks, const struct cpu_times *before,
		   const struct cpu_times *after)
{
	double *latencies = malloc((ok_count + 1) * sizeof(*latencies));
	if (latencies == NULL) {
		die("out of memory");
	}
	size_t count = 0;
	for (size_t i = 0; i < sent_count; i++) {
		if (requests[i].state == REQUEST_OK) {
			latencies[count++] = requests[i].latency;
		}
	}
	qsort(latencies, count, sizeof(*latencies), compare_doubles);
	/* achieved: what was answered with 2xx over the time it took, so an
	 * overloaded edge still answering after the last send counts at the
	 * rate it answered */
	double span = last_ok_time - start_time;
	double achieved = span > 0 ? (double)ok_count / span : 0;
	double cpu_us = (double)ticks * 1e6 / (double)sysconf(_SC_CLK_TCK);
	double wall = finish_time - start_time; /* what the CPU time was measured over */
	double own_us = own_cpu() - own_cpu_before;
	printf("connections=%u offered=%.0f sent=%zu ok=%zu failed=%zu timeouts=%zu "
	       "achieved=%.0f p50_ms=%.3f p99_ms=%.3f closed=%u",
	       options.connections, options.rate, sent_count, ok_count,
	       failed_count + timeout_count, timeout_count, achieved,
	       quantile(latencies, count, 0.5) * 1e3, quantile(latencies, count, 0.99) * 1e3,
	       closed_connections);
	if (options.pid_count > 0) {
		printf(" edge_cpu_us_per_msg=%.1f edge_busy_pct=%.0f",
		       answered_count > 0 ? cpu_us / (double)answered_count : 0,
		       wall > 0 ? cpu_us / 1e4 / wall : 0);
	}
	printf(" load_cpu_us_per_msg=%.1f", sent_count > 0 ? own_us / (double)sent_count : 0);
	for (unsigned status = 300; status < 700; status++) {
		if (status_count[status] > 0) {
			printf(" status_%u=%zu", status, status_count[status]);
		}
	}
	for (unsigned cpu = 0; cpu < after->count && cpu < before->count; cpu++) {
		unsigned long long total = after->total[cpu] - before->total[cpu];
		printf(" cpu%u_busy_pct=%.0f", cpu,
		       total > 0 ? 100.0 * (double)(after->busy[cpu] - before->busy[cpu]) /
					   (double)total
				 : 0);
	}
	printf("\n");
	free(latencies);
}

static void usage(void)
{
	fprintf(stderr, "usage: sip_load [-a ADDRESS] [-p PORT] [-c CONNECTIONS] [-r RATE|0] "
			"[-w WINDOW] [-d SECONDS] [-t TIMEOUT] [-C CA_FILE] [-n SERVER_NAME] "
			"[-E CERTIFICATE -K KEY] [-P PID]...\n");
	exit(2);
}

static void parse_options(int argc, char **argv)
{
	int option;
	while ((option = getopt(argc, argv, "a:p:c:r:w:d:t:C:n:E:K:P:")) != -1) {
		switch (option) {
		case 'a':
			options.address = optarg;
			break;
		case 'p':
			options.port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			options.connections = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			options.rate = strtod(optarg, NULL);
			break;
		case 'w':
			options.window = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			options.seconds = strtod(optarg, NULL);
			break;
		case 't':
			options.timeout = strtod(optarg, NULL);
			break;
		case 'C':
			options.ca_file = optarg;
			break;
		case 'n':
			options.server_name = optarg;
			break;
		case 'E':
			options.certificate = optarg;
			break;
		case 'K':
			options.key = optarg;
			break;
		case 'P':
			if (options.pid_count == MAX_PIDS) {
				usage();
			}
			options.pids[options.pid_count++] = (pid_t)strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || options.connections == 0 || options.port == 0 ||
	    options.port > 65535 || options.rate < 0 || options.seconds <= 0 ||
	    options.timeout <= 0 || (options.rate == 0 && options.window == 0)) {
		usage();
	}
}

int main(int argc, char **argv)
{
	parse_options(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	struct event_config *config = event_config_new();
	if (config == NULL) {
		die("out of memory");
	}
	/* the pacing timer needs better than the millisecond of epoll_wait */
	event_config_set_flag(config, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(config);
	event_config_free(config);
	if (base == NULL) {
		die("cannot make an event base");
	}
	request_capacity = 65536;
	requests = calloc(request_capacity, sizeof(*requests));
	if (requests == NULL) {
		die("out of memory");
	}
	run_id = (unsigned)getpid() ^ (unsigned)time(NULL);
	connect_all();

	timeout_timer = event_new(base, -1, EV_PERSIST, on_timeout_scan, NULL);
	struct timeval scan = { 0, (suseconds_t)(TIMEOUT_PERIOD * 1e6) };
	event_add(timeout_timer, &scan);
	struct cpu_times cpu_before, cpu_after;
	read_cpu_times(&cpu_before);
	unsigned long long ticks_before = measured_ticks();
	own_cpu_before = own_cpu();
	start_time = now();
	if (options.rate > 0) {
		/* one tick per message up to 10,000/s, then several per tick */
		double period = 1 / options.rate < 1e-4 ? 1e-4 : 1 / options.rate;
		if (period > 1e-3) {
			period = 1e-3;
		}
		pace_timer = event_new(base, -1, EV_PERSIST, on_pace, NULL);
		struct timeval tick = { 0, (suseconds_t)(period * 1e6) };
		event_add(pace_timer, &tick);
		on_pace(-1, 0, NULL);
	} else {
		for (unsigned i = 0; i < options.window; i++) {
			send_request();
		}
	}
	event_base_dispatch(base);
	if (sending) {
		stop_sending();
	}
	unsigned long long ticks = measured_ticks() - ticks_before;
	finish_time = now();
	read_cpu_times(&cpu_after);
	timeout_count += in_flight; /* still open when the drain ended */
	report(ticks, &cpu_before, &cpu_after);
	return 0;
}
