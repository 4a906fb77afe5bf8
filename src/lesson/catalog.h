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

#include "error.h"
#include "strbuf.h"

#ifndef LESSON_DIR
#define LESSON_DIR "/usr/local/share/attn-trace/lessons"
#endif

/* Size of one directory or path the catalog writes (CATALOG_MAX_DIRS and
 * CATALOG_MAX_LESSONS are in attn_limits.h). */
#define CATALOG_PATH_BYTES LIMIT_PATH_BYTES

/* Fills dirs with the lesson directories that exist, in search order, and
 * returns how many (at most max). */
int catalog_dirs(char dirs[][CATALOG_PATH_BYTES], int max);

/* Resolves a LESSON argument: an existing file is itself; a bare name
 * (no '/') is looked up as NAME.lesson or NAME in the lesson directories.
 * Writes the path to use into path (size bytes) and returns true; when
 * nothing matches, that path is the argument unchanged, so that the error
 * of loading it names what the user typed. Returns false with err when
 * lesson does not fit in path (STATUS_NOINPUT: it could not be opened
 * either, "LESSON: cannot open: the path is longer than ...") or memory runs out
 * (STATUS_FAILURE); path then holds "". */
bool catalog_resolve(const char *lesson, char *path, size_t size, Error *err);

/* Resolves a model argument (--model NAME, a lesson's `model:`): a name
 * with a '/' in it, or the name of an existing directory, is itself; a
 * bare name is looked up as models/NAME (a directory) in each lesson
 * directory in turn, so that `tiny` finds lessons/models/tiny of a build
 * tree or PREFIX/share/attn-trace/lessons/models/tiny of an install.
 * Writes the path into path (size bytes) and returns true; or false with
 * err, STATUS_NOINPUT, "NAME: no such model (looked for models/NAME in
 * DIR, DIR)" when no directory has it, or when name does not fit in path;
 * STATUS_FAILURE when memory runs out. path then holds "". */
bool catalog_find_model(const char *name, char *path, size_t size, Error *err);

/* Appends the list of lessons in the lesson directories to out: each
 * lesson's name, title, size, and the learner's progress in it (a lesson
 * whose progress file is unusable shows as not started). Lessons that do
 * not parse are listed with their first error. Returns true; or false
 * with err when a directory holds more than CATALOG_MAX_LESSONS lessons
 * (STATUS_DATAERR, naming the directory and the limit) or memory runs out
 * (STATUS_FAILURE). out then holds the part listed so far; the caller
 * frees it in either case. */
bool catalog_list(StrBuf *out, Error *err);

#endif
