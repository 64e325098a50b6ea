/* SPDX-License-Identifier: ISC */
/* udp_socket: see udp_socket.h. */
#include "udp_socket.h"

#include <sys/socket.h>

void udp_socket_size_buffers(int fd)
{
	int size = UDP_SOCKET_BUFFER;

	/* Capped by the kernel at rmem_max and wmem_max, silently. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}
