/* SPDX-License-Identifier: BSD-3-Clause */
/* tools/common/emit.c - text or JSON from the same calls (see emit.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "emit.h"

#define TEXT_MAX 1024
#define JSON_MAX (TEXT_MAX * 6 + 3)

void emit_init(struct emit *e, FILE *out, bool json)
{
	memset(e, 0, sizeof(*e));
	e->out = out;
	e->json = json;
	e->label_width = 34;
	e->kind[0] = EMIT_OBJ;
	if (json)
		fputc('{', out);
}

static void indent(struct emit *e, int depth)
{
	fprintf(e->out, "%*s", depth * 2, "");
}

/* Text: untitled containers (e.g. a list of sections) do not indent. */
static void text_indent(struct emit *e)
{
	indent(e, e->text_level[e->depth]);
}

/* JSON: separator, newline and "key": for the next member of the container. */
static void json_member(struct emit *e, const char *key)
{
	int d = e->depth;

	if (e->has_members[d])
		fputc(',', e->out);
	e->has_members[d] = true;
	if (e->kind[d] == EMIT_ROW) {
		fputc(' ', e->out);
	} else {
		fputc('\n', e->out);
		indent(e, d + 1);
	}
	if (e->kind[d] != EMIT_ARR)
		fprintf(e->out, "\"%s\": ", key);
}

/* JSON string literal of @s into @buf; bytes >= 0x80 pass (UTF-8). */
static void json_quote(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	buf[o++] = '"';
	for (; *s && o + 8 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\u%04x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

static void open_container(struct emit *e, const char *key, const char *title,
			   enum emit_kind kind)
{
	if (e->depth + 1 >= EMIT_MAX_DEPTH)
		return;
	if (e->json) {
		json_member(e, key);
		fputc(kind == EMIT_ARR ? '[' : '{', e->out);
	} else if (kind == EMIT_ROW) {
		text_indent(e);
		fputs(title ? title : key, e->out);
	} else if (title) {
		/* A blank line between top-level sections. */
		if (e->text_level[e->depth] == 0 && e->text_started)
			fputc('\n', e->out);
		e->text_started = true;
		text_indent(e);
		fprintf(e->out, "%s\n", title);
	}
	e->has_members[e->depth] = true;
	e->depth++;
	e->kind[e->depth] = kind;
	e->has_members[e->depth] = false;
	e->text_level[e->depth] = e->text_level[e->depth - 1] + (title ? 1 : 0);
}

static void close_container(struct emit *e)
{
	enum emit_kind kind = e->kind[e->depth];

	if (e->depth == 0)
		return;
	if (e->json) {
		if (kind == EMIT_ROW) {
			fputs(" }", e->out);
		} else {
			if (e->has_members[e->depth]) {
				fputc('\n', e->out);
				indent(e, e->depth);
			}
			fputc(kind == EMIT_ARR ? ']' : '}', e->out);
		}
	} else if (kind == EMIT_ROW) {
		fputc('\n', e->out);
	}
	e->depth--;
}

void emit_obj_begin(struct emit *e, const char *key, const char *title)
{
	open_container(e, key, title, EMIT_OBJ);
}

void emit_arr_begin(struct emit *e, const char *key, const char *title)
{
	open_container(e, key, title, EMIT_ARR);
}

void emit_row_begin(struct emit *e, const char *key, const char *title)
{
	open_container(e, key, title, EMIT_ROW);
}

void emit_obj_end(struct emit *e)
{
	close_container(e);
}

void emit_arr_end(struct emit *e)
{
	close_container(e);
}

void emit_row_end(struct emit *e)
{
	close_container(e);
}

void emit_finish(struct emit *e)
{
	while (e->depth > 0)
		close_container(e);
	if (e->json)
		fputs("\n}\n", e->out);
	fflush(e->out);
}

/* Every scalar ends here: @json is a JSON value, @text what people read. */
static void put(struct emit *e, const char *key, const char *label, const char *json,
		const char *text)
{
	int d = e->depth;

	if (e->json) {
		json_member(e, key);
		fputs(json, e->out);
		return;
	}
	e->has_members[d] = true;
	e->text_started = true;
	/* A member without a label is for scripts only (an index, a unit variant). */
	if (!label && e->kind[d] != EMIT_ARR)
		return;
	switch (e->kind[d]) {
	case EMIT_ROW:
		fprintf(e->out, "  %s %s", label, text);
		break;
	case EMIT_ARR:
		text_indent(e);
		fprintf(e->out, "- %s\n", text);
		break;
	case EMIT_OBJ: {
		int width = e->label_width - e->text_level[d] * 2;

		text_indent(e);
		fprintf(e->out, "%-*s %s\n", width > 0 ? width : 0, label, text);
		break;
	}
	}
}

void emit_str(struct emit *e, const char *key, const char *label, const char *val)
{
	char json[JSON_MAX];

	json_quote(val, json, sizeof(json));
	put(e, key, label, json, val);
}

void emit_str_text(struct emit *e, const char *key, const char *label, const char *val,
		   const char *fmt, ...)
{
	char json[JSON_MAX], text[TEXT_MAX];
	va_list ap;

	json_quote(val, json, sizeof(json));
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	put(e, key, label, json, text);
}

void emit_fixed_str(struct emit *e, const char *key, const char *label,
		    const char *val, size_t len)
{
	char buf[TEXT_MAX];
	size_t n = 0;

	/* Device strings are ASCII padded with spaces; anything else is shown as '?'. */
	for (size_t i = 0; i < len && i < sizeof(buf) - 1 && val[i]; i++) {
		unsigned char c = (unsigned char)val[i];

		buf[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	emit_str(e, key, label, buf);
}

void emit_uint(struct emit *e, const char *key, const char *label, uint64_t val)
{
	char num[32];

	snprintf(num, sizeof(num), "%" PRIu64, val);
	put(e, key, label, num, num);
}

void emit_int(struct emit *e, const char *key, const char *label, int64_t val)
{
	char num[32];

	snprintf(num, sizeof(num), "%" PRId64, val);
	put(e, key, label, num, num);
}

void emit_hex(struct emit *e, const char *key, const char *label, uint64_t val,
	      int digits)
{
	char num[32], hex[32];

	snprintf(num, sizeof(num), "%" PRIu64, val);
	snprintf(hex, sizeof(hex), "0x%0*" PRIx64, digits, val);
	put(e, key, label, num, hex);
}

void emit_bool(struct emit *e, const char *key, const char *label, bool val)
{
	put(e, key, label, val ? "true" : "false", val ? "yes" : "no");
}

void emit_null(struct emit *e, const char *key, const char *label, const char *text)
{
	put(e, key, label, "null", text);
}

void emit_uint_text(struct emit *e, const char *key, const char *label, uint64_t val,
		    const char *fmt, ...)
{
	char num[32], text[TEXT_MAX];
	va_list ap;

	snprintf(num, sizeof(num), "%" PRIu64, val);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	put(e, key, label, num, text);
}

void emit_u128_to_dec(const uint8_t le[16], char *buf, size_t len)
{
	unsigned __int128 v = 0;
	char tmp[48];
	size_t n = 0;

	for (int i = 15; i >= 0; i--)
		v = (v << 8) | le[i];
	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v && n < sizeof(tmp));
	if (len == 0)
		return;
	for (size_t i = 0; i < n && i < len - 1; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n < len ? n : len - 1] = '\0';
}

void emit_u128(struct emit *e, const char *key, const char *label,
	       const uint8_t le[16], const char *text_suffix)
{
	char num[48], text[TEXT_MAX];

	emit_u128_to_dec(le, num, sizeof(num));
	snprintf(text, sizeof(text), "%s%s", num, text_suffix ? text_suffix : "");
	put(e, key, label, num, text);
}

void emit_flags(struct emit *e, const char *key, const char *label, uint64_t val,
		int digits, const char *const *names, unsigned int nbits)
{
	char text[TEXT_MAX], dkey[128];
	bool first = true;
	size_t used;

	used = (size_t)snprintf(text, sizeof(text), "0x%0*" PRIx64, digits, val);
	if (e->json) {
		emit_uint(e, key, label, val);
		/* A one-line array: "oacs_decoded": [ "Format NVM", ... ] */
		snprintf(dkey, sizeof(dkey), "%s_decoded", key);
		json_member(e, dkey);
		fputc('[', e->out);
	}
	for (unsigned int bit = 0; bit < 64; bit++) {
		char name[64];

		if (!(val & (1ull << bit)))
			continue;
		if (bit < nbits && names[bit])
			snprintf(name, sizeof(name), "%s", names[bit]);
		else
			snprintf(name, sizeof(name), "bit %u", bit);
		if (e->json) {
			char q[160];

			json_quote(name, q, sizeof(q));
			fprintf(e->out, "%s %s", first ? "" : ",", q);
			first = false;
		} else if (used < sizeof(text)) {
			used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s",
						 first ? "  " : ", ", name);
			first = false;
		}
	}
	if (e->json) {
		fputs(" ]", e->out);
		return;
	}
	put(e, key, label, "", text);
}

void emit_note(struct emit *e, const char *fmt, ...)
{
	va_list ap;

	if (e->json)
		return;
	text_indent(e);
	va_start(ap, fmt);
	vfprintf(e->out, fmt, ap);
	va_end(ap);
	fputc('\n', e->out);
	e->has_members[e->depth] = true;
	e->text_started = true;
}

void emit_human_bytes(long double bytes, char *buf, size_t len)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned int u = 0;

	while (bytes >= 1024 && u < sizeof(units) / sizeof(units[0]) - 1) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0Lf bytes", bytes);
	else
		snprintf(buf, len, "%.1Lf %s", bytes, units[u]);
}
