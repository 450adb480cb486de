/* message.h: what an archive event says to people, built from the event row alone (its payload holds
 * the incident as it stood then), and the bodies each kind of sink sends. Ownership: message_build
 * fills a struct message whose strings it owns; message_clear frees them. Every returned char * is the
 * caller's. */
#ifndef SC_MESSAGE_H
#define SC_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

struct db_event;

/* Characters of postmortem or update text kept in chat bodies (Slack, Teams) before "…". */
#define MESSAGE_CHAT_TRIM 1500

struct message {
	char *type;          /* the event type, "postmortem.published" */
	char *vendor;        /* the vendor's name in the archive (its slug) */
	char *vendor_name;   /* what people call it: its title or page name, else the slug */
	char *headline;      /* what happened, for people: "Postmortem published" */
	char *title;         /* the incident's title, or NULL (source events) */
	char *subject;       /* one line: "DRACOON: Postmortem published: Partial Outage of the API" */
	char *url;           /* the vendor's page for the incident, or NULL */
	char *impact;        /* NULL when unknown */
	char *status;
	char *started;       /* "2025-01-16T12:23:38Z", or NULL */
	char *resolved;
	char *duration;      /* "2h 5m", or NULL */
	char *changed;       /* for changes and edits: what changed, as text (a line diff or "old → new") */
	char *body;          /* the postmortem or update text this event is about, untrimmed, or NULL */
	char *text;          /* the whole message as plain text, standalone; body trimmed to `trim` */
	int64_t at;          /* the event's created_at */
};

/* The first n code points of s (ending at a word when one ends in the last fifth); *cut is set when
 * s had more. Caller frees. */
char *message_prefix(const char *s, size_t n, int *cut);

/* Build the message of ev. trim is the most characters of body kept in text (0: all). */
int message_build(const struct db_event *ev, size_t trim, struct message *out, char **cause);
void message_clear(struct message *m);

/* The sinks' bodies. key is the idempotency key of this event and sink (also in the bodies). The
 * JSON ones return NULL only when jansson cannot allocate. */
/* The generic JSON object (webhook "json", program stdin, JSON Lines file): one line, no newline. */
char *message_json(const struct db_event *ev, const struct message *m, const char *sink, const char *key);
/* A Slack incoming-webhook body (text plus blocks). */
char *message_slack(const struct message *m, const char *key);
/* A Microsoft Teams body: a message with one Adaptive Card (Workflows webhooks). */
char *message_teams(const struct message *m, const char *key);
/* An RFC 5322 message for sendmail (which takes the recipients as arguments): LF line ends,
 * text/plain UTF-8 in quoted-printable. */
char *message_email(const struct message *m, const char *from, const char *const *to, size_t n_to,
		    const char *key, int64_t now);

#endif
