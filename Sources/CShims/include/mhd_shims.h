#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct MHD_Connection;

/// One running libmicrohttpd daemon with its request handler.
typedef struct hk_mhd_server hk_mhd_server;

/// Called once per request on the daemon's internal thread. Returns 1 when a response was
/// queued with `hk_mhd_respond`, 0 to close the connection.
typedef int (*hk_mhd_request_handler)(void *context, struct MHD_Connection *connection, const char *method,
                                      const char *url);

/// Starts a daemon on `address` with an internal epoll thread, the given connection timeout
/// (seconds), total and per-IP connection limits and per-connection memory limit (bytes,
/// which bounds the request header size). Returns NULL on failure with errno set.
hk_mhd_server *hk_mhd_start(const struct sockaddr *address, int ipv6, hk_mhd_request_handler handler,
                            void *context, unsigned int timeout_seconds, unsigned int connection_limit,
                            unsigned int per_ip_limit, size_t memory_limit);

/// The bound port (useful after binding port 0).
uint16_t hk_mhd_port(hk_mhd_server *server);

/// Stops the daemon, waiting for its thread, and frees the server.
void hk_mhd_stop(hk_mhd_server *server);

/// Queues a response with a copy of `body`. `allow` adds an Allow header when not NULL.
int hk_mhd_respond(struct MHD_Connection *connection, unsigned int status, const char *content_type,
                   const void *body, size_t length, const char *allow);
