/*
 * Baseline for the plugin benchmark: the same JSON round trip in plain C, with no JSON
 * library. Reads a CredentialProviderRequest on stdin (at most 1 MiB), takes the
 * "image" and "serviceAccountToken" strings, derives the registry host with the docker
 * rule (first path component if it contains '.' or ':' or is "localhost", else docker.io)
 * and writes a response with a fixed cacheDuration. It skips what the Swift plugin does
 * beyond that (full JSON validation, apiVersion and kind checks, JWT exp decoding), so it
 * is a lower bound on the work, not an equivalent program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIMIT (1 << 20)

static char input[LIMIT + 1];

/* Copies the JSON string value of "key" into out (escapes kept as sent); returns its length or -1. */
static long string_value(const char *json, const char *key, char *out, size_t capacity) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *at = strstr(json, pattern);
    if (!at) return -1;
    at += strlen(pattern);
    while (*at == ' ' || *at == ':' || *at == '\t' || *at == '\n' || *at == '\r') at++;
    if (*at != '"') return -1;
    at++;
    size_t length = 0;
    while (*at && *at != '"') {
        if (*at == '\\' && at[1]) {
            if (length + 2 >= capacity) return -1;
            out[length++] = *at++;
        }
        if (length + 1 >= capacity) return -1;
        out[length++] = *at++;
    }
    if (*at != '"') return -1;
    out[length] = 0;
    return (long)length;
}

int main(void) {
    size_t total = 0;
    ssize_t count;
    while (total <= LIMIT && (count = read(0, input + total, LIMIT + 1 - total)) > 0) total += (size_t)count;
    if (total > LIMIT) { fputs("request too large\n", stderr); return 1; }
    input[total] = 0;

    static char image[4096], token[LIMIT];
    if (string_value(input, "image", image, sizeof image) < 0) { fputs("no image\n", stderr); return 1; }
    if (string_value(input, "serviceAccountToken", token, sizeof token) <= 0) { fputs("no token\n", stderr); return 1; }

    char host[4096] = "docker.io";
    char *slash = strchr(image, '/');
    if (slash) {
        size_t length = (size_t)(slash - image);
        int is_host = memchr(image, '.', length) || memchr(image, ':', length) ||
                      (length == 9 && strncmp(image, "localhost", 9) == 0);
        if (is_host) { memcpy(host, image, length); host[length] = 0; }
    }

    printf("{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"auth\":{\"%s\":{\"password\":\"%s\",\"username\":\"jwt\"}},"
           "\"cacheDuration\":\"55m0s\",\"cacheKeyType\":\"Registry\",\"kind\":\"CredentialProviderResponse\"}",
           host, token);
    return fflush(stdout) == 0 ? 0 : 1;
}
