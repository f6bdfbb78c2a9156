#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/types.h>
#include <stdarg.h>
#include <microhttpd.h>
#include "mhd_shims.h"

struct hk_mhd_server {
    struct MHD_Daemon *daemon;
    hk_mhd_request_handler handler;
    void *context;
};

// The endpoint is read-only, so any request body is ignored and the response is queued on
// the first call for the request.
static enum MHD_Result hk_access(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **request_context) {
    (void)version;
    (void)upload_data;
    (void)request_context;
    struct hk_mhd_server *server = cls;
    if (upload_data_size != NULL) {
        *upload_data_size = 0;
    }
    return server->handler(server->context, connection, method, url) ? MHD_YES : MHD_NO;
}

hk_mhd_server *hk_mhd_start(const struct sockaddr *address, int ipv6, hk_mhd_request_handler handler,
                            void *context, unsigned int timeout_seconds, unsigned int connection_limit,
                            unsigned int per_ip_limit, size_t memory_limit) {
    struct hk_mhd_server *server = calloc(1, sizeof(*server));
    if (server == NULL) {
        return NULL;
    }
    server->handler = handler;
    server->context = context;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | (ipv6 ? MHD_USE_IPv6 : 0);
    server->daemon = MHD_start_daemon(flags, 0, NULL, NULL, hk_access, server,
                                      MHD_OPTION_SOCK_ADDR, address,
                                      MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
                                      MHD_OPTION_CONNECTION_LIMIT, connection_limit,
                                      MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip_limit,
                                      MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory_limit,
                                      MHD_OPTION_END);
    if (server->daemon == NULL) {
        int saved = errno;
        free(server);
        errno = saved;
        return NULL;
    }
    return server;
}

uint16_t hk_mhd_port(hk_mhd_server *server) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

void hk_mhd_stop(hk_mhd_server *server) {
    if (server == NULL) {
        return;
    }
    MHD_stop_daemon(server->daemon);
    free(server);
}

int hk_mhd_respond(struct MHD_Connection *connection, unsigned int status, const char *content_type,
                   const void *body, size_t length, const char *allow) {
    struct MHD_Response *response = MHD_create_response_from_buffer(length, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (response == NULL) {
        return 0;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(response, "Cache-Control", "no-store");
    if (allow != NULL) {
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
    }
    enum MHD_Result queued = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return queued == MHD_YES;
}
