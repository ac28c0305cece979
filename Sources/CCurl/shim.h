#ifndef AUTHZD_CCURL_SHIM_H
#define AUTHZD_CCURL_SHIM_H

#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic: typed wrappers Swift can call. */
static inline CURLcode authzd_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode authzd_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode authzd_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode authzd_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*authzd_curl_write_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode authzd_curl_setopt_write_function(CURL *h, CURLoption o, authzd_curl_write_cb cb) { return curl_easy_setopt(h, o, cb); }
static inline CURLcode authzd_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode authzd_curl_getinfo_string(CURL *h, CURLINFO i, const char **v) { return curl_easy_getinfo(h, i, v); }

/* CURLOPT_CAINFO_BLOB takes a struct by pointer; curl copies the bytes, so the caller's buffer
   need only live for the call. */
static inline CURLcode authzd_curl_setopt_blob_copy(CURL *h, CURLoption o, void *data, size_t len) {
    struct curl_blob blob;
    blob.data = data;
    blob.len = len;
    blob.flags = CURL_BLOB_COPY;
    return curl_easy_setopt(h, o, &blob);
}

#endif
