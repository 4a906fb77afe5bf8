/*
 * catalog.h - where lessons are found: by path, or by bare name in the
 * lesson directories.
 *
 * The directories, in order: each of $ATTN_TRACE_LESSONS (colon-separated),
 * the lessons/ directory next to the binary's own directory (a build tree:
 * build/attn-trace finds lessons/), and the installed one, LESSON_DIR
 * (PREFIX/share/attn-trace/lessons).
 */
#ifndef ATTN_CATALOG_H
#define ATTN_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#ifndef LESSON_DIR
#define LESSON_DIR "/usr/local/share/attn-trace/lessons"
#endif

#define CATALOG_MAX_DIRS 8
#define CATALOG_PATH_BYTES 4096

/* Fills dirs with the lesson directories that exist, in search order, and
 * returns how many. */
int catalog_dirs(char dirs[][CATALOG_PATH_BYTES], int max);

/* Resolves a LESSON argument: an existing file is itself; a bare name
 * (no '/') is looked up as NAME.lesson or NAME in the lesson directories.
 * Writes the path to use into path (the argument unchanged when nothing
 * matches, so the error names what the user typed). */
void catalog_resolve(const char *lesson, char *path, size_t size);

/* Appends the list of lessons in the lesson directories to out: each
 * lesson's name, title, size, and the learner's progress in it. Lessons
 * that do not parse are listed with their first error. */
void catalog_list(StrBuf *out);

#endif
