/* What the processes of one `xisan run` leave in its state file, read back
 * when the program has exited. */
#ifndef XISAN_TOOLS_RUN_STATE_H
#define XISAN_TOOLS_RUN_STATE_H

#include <stdbool.h>
#include <stdio.h>

typedef struct run_state run_state_t;

/* Reads the state file at `path`; NULL when out of memory. */
run_state_t *run_state_read(const char *path);
void run_state_free(run_state_t *s);
/* Processes where a supported Python was checked; reports they made. */
unsigned long run_state_active(const run_state_t *s);
unsigned long run_state_reports(const run_state_t *s);
/* Did process `pid` report a crash? */
bool run_state_crashed(const run_state_t *s, long pid);
/* The processes' warnings, each once, and the summary of blocks of ended
 * interpreters still allocated at exit, aggregated over the processes
 * that left it to the command. */
void run_state_print(run_state_t *s, FILE *out);

#endif
