/*
 * builtin.h - the default lesson, compiled into the binary.
 *
 * The Makefile turns lessons/article.lesson into build/gen/builtin_lesson.c
 * (a byte array), so attn-trace works with no files installed and the
 * default lesson is an ordinary lesson file a teacher can read and copy.
 */
#ifndef ATTN_BUILTIN_H
#define ATTN_BUILTIN_H

#include <stddef.h>

/* The name the built-in lesson's messages and progress use. */
#define BUILTIN_LESSON_PATH "lessons/article.lesson"

extern const char BUILTIN_LESSON_NAME[];     /* BUILTIN_LESSON_PATH, for messages */
extern const unsigned char BUILTIN_LESSON[]; /* the file's bytes, NUL-terminated */
extern const size_t BUILTIN_LESSON_SIZE;     /* bytes, without the NUL */

#endif
