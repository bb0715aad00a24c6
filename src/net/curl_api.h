/* libcurl, loaded when the first HTTP client is made rather than when the
 * program starts. Linking it would map libcurl and its dependency tree
 * (GnuTLS, Kerberos, LDAP, SSH, ...) into every careerbot process, about
 * 3.5 MB of resident memory, although only Matrix accounts use it.
 *
 * Include this instead of <curl/curl.h>: the curl_* names used by the HTTP
 * client are redirected to the loaded functions, so the code reads as
 * ordinary libcurl code. Private to src/net. */
#ifndef NET_CURL_API_H
#define NET_CURL_API_H

#include <curl/curl.h>
#include <stddef.h>

typedef struct net_curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *easy, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *easy, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *easy);
    const char *(*easy_strerror)(CURLcode code);
    char *(*easy_escape)(CURL *easy, const char *string, int length);
    void (*free)(void *p);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_setopt)(CURLM *multi, CURLMoption option, ...);
    CURLMcode (*multi_add_handle)(CURLM *multi, CURL *easy);
    CURLMcode (*multi_remove_handle)(CURLM *multi, CURL *easy);
    CURLMcode (*multi_assign)(CURLM *multi, curl_socket_t fd, void *p);
    CURLMcode (*multi_socket_action)(CURLM *multi, curl_socket_t fd, int ev_bitmask, int *running);
    CURLMsg *(*multi_info_read)(CURLM *multi, int *msgs_in_queue);
    CURLMcode (*multi_cleanup)(CURLM *multi);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *string);
    void (*slist_free_all)(struct curl_slist *list);
} net_curl_api;

/* Loads libcurl and runs curl_global_init, once. Returns 0, or -1 with a
 * message in err. */
int net_curl_load(char *err, size_t errlen);
/* The loaded functions; only valid after net_curl_load succeeded. */
const net_curl_api *net_curl(void);

/* The redirection. curl's own headers may define some of these names as
 * type-checking macros; they are replaced. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_easy_init (net_curl()->easy_init)
#define curl_easy_setopt (net_curl()->easy_setopt)
#define curl_easy_getinfo (net_curl()->easy_getinfo)
#define curl_easy_cleanup (net_curl()->easy_cleanup)
#define curl_easy_strerror (net_curl()->easy_strerror)
#define curl_easy_escape (net_curl()->easy_escape)
#define curl_free (net_curl()->free)
#define curl_multi_init (net_curl()->multi_init)
#define curl_multi_setopt (net_curl()->multi_setopt)
#define curl_multi_add_handle (net_curl()->multi_add_handle)
#define curl_multi_remove_handle (net_curl()->multi_remove_handle)
#define curl_multi_assign (net_curl()->multi_assign)
#define curl_multi_socket_action (net_curl()->multi_socket_action)
#define curl_multi_info_read (net_curl()->multi_info_read)
#define curl_multi_cleanup (net_curl()->multi_cleanup)
#define curl_slist_append (net_curl()->slist_append)
#define curl_slist_free_all (net_curl()->slist_free_all)

#endif
