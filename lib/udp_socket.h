/* SPDX-License-Identifier: ISC */
/* udp_socket: what every UDP socket of the edge is given before it serves.
 *
 * The kernel's default buffer (net.core.rmem_default, about 208 KiB) holds
 * a few milliseconds of a busy relay's datagrams: a burst, or the loop
 * busy with a TLS handshake, and the kernel drops what does not fit, which
 * a UDP peer never learns.  So each socket asks for UDP_SOCKET_BUFFER
 * bytes each way (as coturn does); the kernel grants at most
 * net.core.rmem_max and wmem_max, which an operator raises for more. */
#ifndef SXEDGE_UDP_SOCKET_H
#define SXEDGE_UDP_SOCKET_H

#define UDP_SOCKET_BUFFER (4 * 1024 * 1024)

/* Asks for UDP_SOCKET_BUFFER bytes of receive and send buffer on FD.  What
 * the kernel grants is all it can give: a smaller grant is no error. */
void udp_socket_size_buffers(int fd);

#endif
