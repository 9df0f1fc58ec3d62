/*
 * test_main.c - the PGM suite: the map (ranges, overlaps, listeners),
 * physical access (RAM, ROM, MMIO, unassigned) and the page-table walker
 * (every paging mode, every fault kind, A/D bits).
 */
#include <stdlib.h>
#include <string.h>

#include <capsule/errorinfo.h>

#include "pgm_test.h"

const char *take_message(void)
{
    static char buf[1024];
    struct cap_error_info info;
    buf[0] = '\0';
    if (cap_error_take(&info) == 0 && info.message)
        strncpy(buf, info.message, sizeof(buf) - 1);
    cap_error_info_clear(&info);
    return buf;
}

int main(void)
{
    Suite *s = suite_create("pgm");
    suite_add_tcase(s, tcase_map());
    suite_add_tcase(s, tcase_phys());
    suite_add_tcase(s, tcase_walk());
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
