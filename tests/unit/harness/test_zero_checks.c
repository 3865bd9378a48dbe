/* SPDX-License-Identifier: Apache-2.0 */
/* Runs no check: check_finish() must fail it (registered with should_fail). Keeps the harness
 * rule "a test binary that checked nothing did not pass" from being lost. */
#include "check.h"

int main(void)
{
    return check_finish();
}
