/* url.h: the little URL arithmetic starchive needs (joining a link to its page, taking the host),
 * without a network library. Ownership: returned strings are new; the caller frees them. */
#ifndef SC_URL_H
#define SC_URL_H

/* Resolve ref (absolute, scheme-relative "//h/p", absolute-path "/p", or relative "p", "../p",
 * "?q", "#f") against the absolute http(s) URL base. NULL when base is not absolute. */
char *url_join(const char *base, const char *ref);
/* The lowercase host of an absolute URL ("https://Status.Example.com:8443/x" -> "status.example.com"),
 * or NULL. */
char *url_host(const char *url);
/* The URL's scheme, host and port with no path ("https://h/x/y" -> "https://h"), or NULL. */
char *url_origin(const char *url);
/* 1 when the URL is absolute http or https. */
int url_is_http(const char *url);
/* The last path segment after "/incidents/" (Statuspage codes, incident.io ULIDs), or NULL. */
char *url_incident_code(const char *url);

#endif
