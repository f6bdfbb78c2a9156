#pragma once
#include <stddef.h>
#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, so Swift cannot call them. Each shim
// passes one argument of one type; the option must expect exactly that type (libcurl's
// "curl_easy_setopt" manual page lists the type of every option).

CURLcode hk_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode hk_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode hk_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode hk_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode hk_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);

// Sets a blob option (CURLOPT_CAINFO_BLOB, CURLOPT_SSLCERT_BLOB, CURLOPT_SSLKEY_BLOB).
// libcurl copies the bytes (CURL_BLOB_COPY), so the caller's buffer may go away afterwards.
CURLcode hk_curl_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t length);

typedef size_t (*hk_curl_data_callback)(char *data, size_t size, size_t count, void *context);

// Sets the body (CURLOPT_WRITEFUNCTION) or header (CURLOPT_HEADERFUNCTION) callback and its context.
CURLcode hk_curl_set_write_callback(CURL *handle, hk_curl_data_callback callback, void *context);
CURLcode hk_curl_set_header_callback(CURL *handle, hk_curl_data_callback callback, void *context);

CURLcode hk_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
