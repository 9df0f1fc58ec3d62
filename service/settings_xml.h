/*
 * service/settings_xml.h - the XML layer under settings.h: a small element
 * tree read with expat, and an escaping writer. Internal to service/.
 *
 * The tree keeps what the settings formats use: element names, attributes,
 * character data (concatenated) and the line each element starts on, for
 * "FILE:LINE: message" errors. Limits (depth, element count, file size) keep
 * hostile input from costing more than a bounded amount of memory.
 */
#ifndef CAPSULE_SVC_SETTINGS_XML_H
#define CAPSULE_SVC_SETTINGS_XML_H

#include <stddef.h>

#include <capsule/types.h>

#define XML_MAX_DEPTH 16
#define XML_MAX_NODES 20000

struct xml_node {
    char *name;
    char **attrs; /* name, value, name, value, ..., NULL */
    char *text;   /* character data directly inside, "" if none */
    size_t text_len;
    unsigned long line;
    struct xml_node *parent;
    struct xml_node *first_child, *last_child, *next;
};

/* Parses buf into a tree; on failure sets error info "FILE:LINE: message"
 * and returns CAP_E_XML_ERROR. Free with xml_free. */
cap_result xml_parse(const char *file, const char *buf, size_t len, struct xml_node **out);
void xml_free(struct xml_node *n);

/* The attribute's value or NULL. */
const char *xml_attr(const struct xml_node *n, const char *name);

/* CAP_E_XML_ERROR with "FILE:LINE: message" for node n. */
cap_result xml_error(const char *file, const struct xml_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks that n has only attributes from `allowed` (NULL-terminated). */
cap_result xml_check_attrs(const char *file, const struct xml_node *n, const char *const *allowed);

/* Attribute readers: a missing attribute leaves *out unchanged unless
 * `required`; a malformed one is an error naming it. */
cap_result xml_get_u32(const char *file, const struct xml_node *n, const char *name, int required,
                       uint32_t min, uint32_t max, uint32_t *out);
cap_result xml_get_i64(const char *file, const struct xml_node *n, const char *name, int64_t *out);
cap_result xml_get_bool(const char *file, const struct xml_node *n, const char *name, cap_bool *out);
cap_result xml_get_uuid(const char *file, const struct xml_node *n, const char *name, cap_uuid *out);
/* Replaces *out with a copy of the attribute (checked by settings_text_ok). */
cap_result xml_get_str(const char *file, const struct xml_node *n, const char *name, int required,
                       char **out);
/* Maps the attribute through names[0..count) to its index. */
cap_result xml_get_enum(const char *file, const struct xml_node *n, const char *name,
                        const char *const *names, int count, int *out);

/* The writer: text appended to a growing buffer; `failed` sticks. */
struct xml_writer {
    char *buf;
    size_t len, cap;
    int failed;
    int depth;
};

void xw_raw(struct xml_writer *w, const char *s);
void xw_printf(struct xml_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes s escaped for an attribute value (quotes, <, >, &, tab, newlines). */
void xw_escaped(struct xml_writer *w, const char *s, int attr);
/* Indentation for the current depth. */
void xw_indent(struct xml_writer *w);
/* ` name="escaped value"` */
void xw_attr(struct xml_writer *w, const char *name, const char *value);
/* Returns the text (NUL-terminated, cap_free) or NULL if anything failed. */
char *xw_finish(struct xml_writer *w, size_t *len);

/* <ExtraData> of both file kinds (settings_machine.c). */
struct kv_list;
cap_result settings_parse_extra(const char *file, const struct xml_node *ed, struct kv_list *out);
void settings_format_extra(struct xml_writer *w, const struct kv_list *extra);
/* <RemoteDisplay> (settings_vrde.c): read into c / written from c
 * (nothing while all is at its defaults). */
struct vrde_cfg;
cap_result settings_vrde_parse(const char *file, const struct xml_node *rd, struct vrde_cfg *c);
void settings_vrde_format(struct xml_writer *w, const struct vrde_cfg *c);
/* <Network> (settings_net.c): read into c->nic[] / written from it
 * (nothing while every slot is at its defaults). */
struct machine_cfg;
cap_result settings_net_parse(const char *file, const struct xml_node *net, struct machine_cfg *c);
void settings_net_format(struct xml_writer *w, const struct machine_cfg *c);

#endif /* CAPSULE_SVC_SETTINGS_XML_H */
