/* SPDX-License-Identifier: Apache-2.0 */
/* Tree-walking helpers for request-body parsers that live outside xml.c (e.g. cors.c), so that
 * each sees documents exactly as xml.c's own parsers do: same caps, no DOCTYPE, no entities, no
 * network, elements matched by local name. Private to server/; the only other header besides
 * xml.c that exposes libxml2 types. */
#ifndef SRV_XMLTREE_H
#define SRV_XMLTREE_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "common/err.h"

/* Parses body (n bytes, at most cap) into a tree. COF_ERR_TOO_LARGE over cap,
 * COF_ERR_MALFORMED_XML when empty, not well-formed or carrying a DOCTYPE, COF_ERR_NOMEM.
 * *out is freed with srv_xmltree_free. */
COF_MUST_CHECK cof_err srv_xmltree_parse(const char *body, size_t n, size_t cap, xmlDocPtr *out);
/* Accepts NULL. */
void srv_xmltree_free(xmlDocPtr doc);
/* Whether nd is an element named name (local name, namespace ignored). */
bool srv_xmltree_is_elem(const xmlNode *nd, const char *name);
/* COF_ERR_MALFORMED_XML unless el holds only elements, comments, PIs and blank text. */
COF_MUST_CHECK cof_err srv_xmltree_check_container(const xmlNode *el);
/* Text of a leaf element (text and CDATA; a child element is malformed); trim strips XML
 * whitespace at both ends. *out is the caller's (free()). */
COF_MUST_CHECK cof_err srv_xmltree_leaf_text(const xmlNode *el, bool trim, char **out);

#endif
