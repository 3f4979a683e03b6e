/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Layer: parsing and configuration.
 *
 * Shared between the three parts of the configuration module: config.c (API, key tables, the
 * handler), config-reader.c (files, includes and the line reader fed to inih) and
 * config-validate.c (required keys and cross references). Not for use outside config*.c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "macro.h"

enum section_kind {
	SECTION_NONE,       /* the top of a file, before its first [section] */
	SECTION_SUPERVISOR,
	SECTION_SHUTDOWN,
	SECTION_INTAKE,
	SECTION_WORKER,
	SECTION_RESOURCE,
	SECTION_IGNORED,    /* unknown, misnamed or duplicate: its keys are skipped */
	_SECTION_KIND_MAX,
};

struct config_key;

/* One key as written in a section, for duplicates, overrides and "does not apply" errors. */
struct key_rec {
	const struct config_key *key;
	struct config_location at;
	size_t ordinal;
};

/* One section as written. */
struct section_rec {
	enum section_kind kind;
	void *obj;                  /* the section's struct in the config */
	char *title;                /* "worker:web", for messages */
	struct config_location at;
	size_t ordinal;
	struct key_rec *keys;
	size_t n_keys;
};

/* An error waiting to be sorted into reading order. */
struct pending_error {
	struct config_error e;
	size_t ordinal;
};

/* One file (or string) being read; parent is the file that included it. */
struct source {
	struct source *parent;
	const char *file;           /* in config->files */
	char *dir;                  /* base of relative includes */
	bool has_id;                /* dev/ino known (a real file) */
	dev_t dev;
	ino_t ino;
	const char *text;
	size_t len;
	size_t pos;                 /* start of the next line */
	unsigned line;              /* number of the line handed to inih last */
	size_t line_ordinal;
	const char *cur;            /* the line being handed out in chunks */
	size_t cur_len;
	size_t cur_off;
};

struct config_parser {
	struct config *config;
	struct pending_error *errors;
	size_t n_errors;
	bool oom;
	size_t ordinal;             /* lines read so far, over all files */
	unsigned depth;             /* include nesting */
	struct source *src;
	/* The current section. */
	enum section_kind kind;
	struct section_rec *section; /* NULL for SECTION_NONE and SECTION_IGNORED */
	struct section_rec **sections;
	size_t n_sections;
	struct name_index section_index; /* title -> position in sections */
};

/* Values quoted in messages are cut here so that one absurd line cannot flood the output. */
#define QUOTE_MAX 200

/* config-keys.c: the key tables. */
typedef void (*key_parse_fn)(struct config_parser *p, const struct config_key *k, const char *v,
    void *obj);

struct config_key {
	enum section_kind section;
	const char *name;
	key_parse_fn parse;
	size_t offset;              /* of the field in the section's struct */
	size_t flag_offset;         /* of its "has_X" bool (has_flag), or of a list's location */
	bool has_flag;
	unsigned min, max;          /* parse_unsigned's range */
	unsigned types;             /* intake/resource types it applies to (bit per type); 0: all */
};

/* More than any one section has. */
#define CONFIG_KEYS_MAX 64
extern const struct config_key config_keys[];
extern const size_t config_keys_n;
const struct config_key *config_key_find(enum section_kind kind, const char *name);

/* The [shutdown] keys a worker inherits unless it sets them itself. */
struct inherited_key {
	const char *name;
	size_t offset;              /* in struct shutdown_settings */
	size_t size;
};
extern const struct inherited_key config_inherited_keys[];
extern const size_t config_inherited_keys_n;

/* Include nesting and size limits. */
#define CONFIG_INCLUDE_DEPTH_MAX 8
#define CONFIG_FILES_MAX 256
#define CONFIG_FILE_SIZE_MAX (1024 * 1024)

/* config.c */
void parser_error_at(struct config_parser *p, const char *file, unsigned line, size_t ordinal,
    const char *fmt, ...) _printf_(5, 6);
/* At the line being read. */
void parser_error(struct config_parser *p, const char *fmt, ...) _printf_(2, 3);
void parser_begin_section(struct config_parser *p, const char *title);
void parser_handle_key(struct config_parser *p, const char *name, const char *value);
const char *section_kind_to_string(enum section_kind k);

/* config-reader.c */
int config_read_file(struct config_parser *p, const char *path);
int config_read_text(struct config_parser *p, const char *name, const char *text);
void config_include(struct config_parser *p, const char *pattern);

/* config-validate.c */
/* The key a section must have and lacks ("command", "listen", ...), or NULL. */
const char *section_missing_key(enum section_kind kind, const void *obj);
/* Cross references: after=, cycles, sockets=, workers=, exit_code_from, addresses, no workers. */
int config_validate_references(const struct config *c, struct config_errors *errors);
