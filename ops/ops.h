/* SPDX-License-Identifier: Apache-2.0 */
/* Kept only because server/main.c (edited elsewhere) includes it for struct srv_ctx: include
 * ops/req.h instead. Declares nothing; to be removed once main.c no longer includes it. */
#ifndef SRV_OPS_H
#define SRV_OPS_H

#include "ops/req.h"

#endif
