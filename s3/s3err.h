/* SPDX-License-Identifier: Apache-2.0 */
/* The one table from cof_err to HTTP status + S3 error <Code> + generic <Message>, and
 * struct srv_problem: how pure protocol code reports a refusal in AWS's words without seeing
 * a request (ops/req.h srv_fail_problem records it). */
#ifndef SRV_S3ERR_H
#define SRV_S3ERR_H

#include <stddef.h>

#include "common/err.h"

struct srv_s3err {
    unsigned status;
    const char *code;    /* S3 <Code> */
    const char *message; /* generic <Message> */
};

/* Never NULL: unknown codes map to 500 InternalError. */
const struct srv_s3err *srv_s3err_lookup(cof_err e);

/* A refusal in AWS's words, as pure protocol code reports it: the error, AWS's message (NULL:
 * the code's default message), and up to two extra elements of the S3 error document (TagKey;
 * ArgumentName/ArgumentValue; ...). code COF_OK: no problem. Strings are static, borrowed from
 * the parser's input (each parser says which), or point into text[], so a problem is copied
 * only as a whole and needs no cleanup. A problem with neither message nor element is a bare
 * code, which the handler maps itself (a parser's MalformedXML, NOMEM). */
struct srv_problem {
    cof_err code;
    const char *message;
    const char *name1, *value1, *name2, *value2;
    size_t text_len;
    char text[1024];
};

/* Clears p: no problem, no text. */
void srv_problem_init(struct srv_problem *p);
/* Sets the error and message (static or borrowed; NULL: the code's default) and drops any
 * extra elements. Returns code, so that a parser writes `return srv_problem_set(p, ...);`. */
cof_err srv_problem_set(struct srv_problem *p, cof_err code, const char *message);
/* Same, with the message formatted into p->text (cut to fit). */
cof_err srv_problem_setf(struct srv_problem *p, cof_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, with AWS's ArgumentName and ArgumentValue elements (value skipped when NULL). */
cof_err srv_problem_arg(struct srv_problem *p, cof_err code, const char *message,
                        const char *arg_name, const char *arg_value);
/* Adds an extra element (skipped when name or value is NULL); name is a static string. A
 * third one is a COF_BUG. */
void srv_problem_elem(struct srv_problem *p, const char *name, const char *value);
/* Formats a string into p->text, after what it already holds (cut to fit), and returns it:
 * for a message or element value that must outlive the parser's input. */
const char *srv_problem_keep(struct srv_problem *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Ends a parse: when err is a failure and no problem is set, records err as a bare code.
 * Returns err. */
cof_err srv_problem_finish(struct srv_problem *p, cof_err err);

#endif
