/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tools/common/emit.h - one set of calls that prints either aligned text for
 * people or JSON for scripts, so both formats always carry the same data.
 *
 * Shared by nvpoll-identify and nvpoll-setup (each compiles emit.c in).
 * Every value has a JSON key (snake_case) and a text label. Text labels are
 * padded to a column; JSON is pretty-printed one member per line, except
 * "rows" (emit_row_begin), which stay on one line in both formats.
 */
#ifndef NVP_TOOLS_EMIT_H
#define NVP_TOOLS_EMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EMIT_MAX_DEPTH 16

enum emit_kind { EMIT_OBJ, EMIT_ARR, EMIT_ROW };

struct emit {
	FILE *out;
	bool json;
	int depth;
	int label_width;		/* text: column where values start */
	enum emit_kind kind[EMIT_MAX_DEPTH];
	bool has_members[EMIT_MAX_DEPTH];
	int text_level[EMIT_MAX_DEPTH];	/* text indent of each depth */
	bool text_started;		/* text: something printed already */
};

/* Start output (JSON: the outer '{'). */
void emit_init(struct emit *e, FILE *out, bool json);
/* Close everything still open (JSON: the outer '}') and flush. */
void emit_finish(struct emit *e);

/* A nested object; text: a heading line (@title may be NULL) and indent. */
void emit_obj_begin(struct emit *e, const char *key, const char *title);
void emit_obj_end(struct emit *e);
/* An array; inside it keys are ignored. Text: heading, one element a line. */
void emit_arr_begin(struct emit *e, const char *key, const char *title);
void emit_arr_end(struct emit *e);
/* A one-line object; text: "@title  LABEL value  LABEL value". */
void emit_row_begin(struct emit *e, const char *key, const char *title);
void emit_row_end(struct emit *e);

/*
 * Scalars. A NULL @label means "JSON only" (indexes, unit variants); inside
 * an array @key and @label are ignored.
 */
void emit_str(struct emit *e, const char *key, const char *label, const char *val);
/* JSON: the string @val; text: whatever @fmt says. */
void emit_str_text(struct emit *e, const char *key, const char *label, const char *val,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A fixed-width, space-padded device string (SN, MN, FR): trimmed. */
void emit_fixed_str(struct emit *e, const char *key, const char *label,
		    const char *val, size_t len);
void emit_uint(struct emit *e, const char *key, const char *label, uint64_t val);
void emit_int(struct emit *e, const char *key, const char *label, int64_t val);
/* JSON: the number; text: 0x with @digits hex digits. */
void emit_hex(struct emit *e, const char *key, const char *label, uint64_t val,
	      int digits);
void emit_bool(struct emit *e, const char *key, const char *label, bool val);
void emit_null(struct emit *e, const char *key, const char *label, const char *text);
/* JSON: the number; text: whatever @fmt says (units, decoding). */
void emit_uint_text(struct emit *e, const char *key, const char *label, uint64_t val,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A 128-bit little-endian counter (SMART); JSON gets every decimal digit. */
void emit_u128(struct emit *e, const char *key, const char *label,
	       const uint8_t le[16], const char *text_suffix);
/*
 * A bit field: JSON "@key": value plus "@key_decoded": [names of set bits];
 * text: hex value and the names. @names[i] is bit i's name (NULL: reserved,
 * shown as "bit i").
 */
void emit_flags(struct emit *e, const char *key, const char *label, uint64_t val,
		int digits, const char *const *names, unsigned int nbits);
/* Text only (JSON ignores it): a free line at the current indent. */
void emit_note(struct emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "64.0 MiB": @bytes in binary units, for text. */
void emit_human_bytes(long double bytes, char *buf, size_t len);

/* Decimal text of a 128-bit little-endian number into @buf (40+ bytes). */
void emit_u128_to_dec(const uint8_t le[16], char *buf, size_t len);

#endif /* NVP_TOOLS_EMIT_H */
