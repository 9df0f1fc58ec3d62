/*
 * tests/unit/service/svc_test.h - what the service test files share: a
 * fresh CAPSULE_HOME and service per test, and small helpers.
 */
#ifndef SVC_TEST_H
#define SVC_TEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <capsule/capsule.h>
#include <capsule/errorinfo.h>
#include <capsule/mem.h>
#include <capsule/registry.h>

#include "events.h"
#include "imachine.h"
#include "progress.h"
#include "session_machine.h"
#include "settings.h"
#include "svc.h"
#include "util.h"

extern char test_home[256];
extern struct cap_registry *test_reg;
extern struct svc *test_svc;
extern ICapsule *capsule;

void svc_setup(void);
void svc_teardown(void);
/* Stops and restarts the service on the same home (a service restart). */
void svc_restart(void);

/* Creates, saves and registers a machine called name. */
IMachine *make_machine(const char *name);
ISession *new_session(void);
char *read_file(const char *path, size_t *len);
void write_file(const char *path, const char *text);
char *get_str(cap_result (*fn)(IMachine *, char **), IMachine *m);
/* A machine file with the defaults, a new UUID and the name "x"; its text
 * (settings_format_machine, cap_free). */
void test_machine_file(struct machine_file *mf);
char *test_format(const struct machine_file *mf);

TCase *tcase_settings(void);
TCase *tcase_machines(void);
TCase *tcase_sessions(void);
TCase *tcase_events(void);
TCase *tcase_listeners(void);
TCase *tcase_cpuprofiles(void);
TCase *tcase_limits(void);
TCase *tcase_media(void);
TCase *tcase_storage(void);
TCase *tcase_vrde(void);
TCase *tcase_net(void);
TCase *tcase_graphics(void);

#endif
