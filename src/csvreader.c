/*-------------------------------------------------------------------------
 *
 * csvreader.c
 *	  Splits CSV bytes into rows with libcsv.  libcsv keeps no line numbers,
 *	  so the input is fed one physical line (or a bounded piece of one) at a
 *	  time and the reader counts LF, CRLF and lone CR line ends itself.
 *	  The delimiter is the caller's: comma, semicolon, tab or pipe.
 *
 *-------------------------------------------------------------------------
 */
#include "csvreader.h"

#include <string.h>

/* Longest piece of one line handed to libcsv in one call. */
#define PT_PIECE_MAX	65536

/* libcsv's own block size; it grows its buffer by this much at a time. */
#define PT_MIN_BLOCK	128

static void reader_parser_init(PtCsvReader *reader);
static void on_field(void *s, size_t len, void *arg);
static void on_row_end(int c, void *arg);
static void emit_row(PtCsvReader *reader, size_t raw_end);
static void row_reset(PtCsvRow *row);
static bool buf_reserve(PtCsvReader *reader, size_t more);
static size_t line_end_length(const unsigned char *data, size_t len, size_t at);
static bool is_blank(const unsigned char *s, size_t len, unsigned char delimiter);

/*
 * Prepares reader to read data, with fields separated by delimiter; nothing
 * is parsed until pt_csv_step.
 */
void
pt_csv_begin(PtCsvReader *reader, const void *data, size_t len,
			 unsigned char delimiter,
			 PtReallocFn realloc_fn, PtFreeFn free_fn,
			 PtCsvRowFn row_fn, void *row_arg)
{
	/* The arrays of the row are set as fields arrive, so they need no zeroing. */
	memset(reader, 0, offsetof(PtCsvReader, row));
	row_reset(&reader->row);
	reader->buf = NULL;
	reader->buf_used = 0;
	reader->buf_size = 0;
	reader->data = data;
	reader->len = len;
	reader->line = 1;
	reader->delimiter = delimiter ? delimiter : ',';
	reader->realloc_fn = realloc_fn;
	reader->free_fn = free_fn;
	reader->row_fn = row_fn;
	reader->row_arg = row_arg;
	reader_parser_init(reader);
}

/* Frees what the reader allocated. */
void
pt_csv_end(PtCsvReader *reader)
{
	csv_free(&reader->parser);
	if (reader->buf != NULL)
		reader->free_fn(reader->buf);
	reader->buf = NULL;
}

/* Sets libcsv up strictly, so that stray and unclosed quotes are errors. */
static void
reader_parser_init(PtCsvReader *reader)
{
	csv_init(&reader->parser, CSV_STRICT | CSV_STRICT_FINI);
	csv_set_delim(&reader->parser, reader->delimiter);
	csv_set_realloc_func(&reader->parser, reader->realloc_fn);
	csv_set_free_func(&reader->parser, reader->free_fn);
}

/*
 * Feeds about budget bytes to libcsv, handing each completed row to row_fn.
 * Returns PT_CSV_MORE until the whole input has been read.
 */
PtCsvStatus
pt_csv_step(PtCsvReader *reader, size_t budget)
{
	const unsigned char *data = reader->data;
	size_t		fed = 0;

	while (!reader->finished && fed < budget)
	{
		size_t		start = reader->pos;
		size_t		piece_end;
		size_t		eol = 0;
		size_t		parsed;

		if (start >= reader->len)
		{
			/* End of input: a row without a final line end ends here. */
			reader->content_end = reader->len;
			if (csv_fini(&reader->parser, on_field, on_row_end, reader) != 0 &&
				csv_error(&reader->parser) == CSV_EPARSE)
			{
				size_t		raw_end = reader->len;

				/* The unclosed value runs to the end, less a final line end. */
				if (reader->line_offset == reader->len && reader->line > 1)
				{
					reader->line--;
					if (raw_end > 0 && data[raw_end - 1] == '\n')
						raw_end--;
					if (raw_end > 0 && data[raw_end - 1] == '\r')
						raw_end--;
				}
				reader->row.problem = PT_CSV_UNCLOSED_QUOTE;
				reader->row.problem_line = reader->row.line_no;
				emit_row(reader, raw_end);
			}
			reader->finished = true;
			break;
		}

		/* The piece ends after the next line end, or PT_PIECE_MAX bytes on. */
		piece_end = start;
		while (piece_end < reader->len && piece_end - start < PT_PIECE_MAX &&
			   data[piece_end] != '\n' && data[piece_end] != '\r')
			piece_end++;
		reader->content_end = piece_end;
		if (piece_end < reader->len && (data[piece_end] == '\n' || data[piece_end] == '\r'))
		{
			eol = line_end_length(data, reader->len, piece_end);
			piece_end += eol;
		}

		if (!reader->in_row &&
			!is_blank(data + start, reader->content_end - start, reader->delimiter))
		{
			reader->in_row = true;
			row_reset(&reader->row);
			reader->row.line_no = reader->line;
			reader->row.raw_offset = reader->line_offset;
			reader->buf_used = 0;
		}

		/* Grow libcsv's buffer geometrically, not by 128 bytes a time. */
		csv_set_blk_size(&reader->parser,
						 reader->parser.entry_size > PT_MIN_BLOCK ?
						 reader->parser.entry_size : PT_MIN_BLOCK);

		parsed = csv_parse(&reader->parser, data + start, piece_end - start,
						   on_field, on_row_end, reader);
		if (reader->nomem)
			return PT_CSV_NOMEM;
		if (parsed < piece_end - start)
		{
			size_t		skip;

			if (csv_error(&reader->parser) != CSV_EPARSE)
				return PT_CSV_NOMEM;

			/* A quote out of place: the row ends unread at this line's end. */
			reader->row.problem = reader->parser.quoted ?
				PT_CSV_TEXT_AFTER_QUOTE : PT_CSV_STRAY_QUOTE;
			reader->row.problem_line = reader->line;
			skip = start + parsed;
			while (skip < reader->len && data[skip] != '\n' && data[skip] != '\r')
				skip++;
			reader->content_end = skip;
			eol = skip < reader->len ? line_end_length(data, reader->len, skip) : 0;
			emit_row(reader, skip);
			piece_end = skip + eol;

			/* Start afresh: csv_fini would hand over the broken row. */
			csv_free(&reader->parser);
			reader_parser_init(reader);
		}

		fed += piece_end - start;
		reader->pos = piece_end;
		if (eol > 0)
		{
			reader->line++;
			reader->line_offset = piece_end;
		}
	}
	if (reader->nomem)
		return PT_CSV_NOMEM;
	return reader->finished ? PT_CSV_DONE : PT_CSV_MORE;
}

/* libcsv callback: keeps the first PT_MAX_COLUMNS values, trimmed. */
static void
on_field(void *s, size_t len, void *arg)
{
	PtCsvReader *reader = arg;
	int			n;
	const char *value = s;

	if (reader->nomem)
		return;
	/* A 1 GB line has fewer than INT_MAX fields: each takes a byte. */
	n = reader->row.nfields++;
	len = pt_trim(&value, len);
	if (len > 0)
		reader->row.nvalues = n + 1;
	if (n >= PT_MAX_COLUMNS)
		return;
	if (!buf_reserve(reader, len + 1))
		return;
	if (len > 0)
		memcpy(reader->buf + reader->buf_used, value, len);
	reader->buf[reader->buf_used + len] = '\0';
	reader->value_offset[n] = reader->buf_used;
	reader->row.length[n] = len;
	reader->buf_used += len + 1;
}

/* libcsv callback: a row ended at the current line's end (or input's end). */
static void
on_row_end(int c, void *arg)
{
	PtCsvReader *reader = arg;

	(void) c;
	emit_row(reader, reader->content_end);
}

/* Hands the current row over, unless every value in it is empty. */
static void
emit_row(PtCsvReader *reader, size_t raw_end)
{
	PtCsvRow   *row = &reader->row;
	int			kept = row->nfields < PT_MAX_COLUMNS ? row->nfields : PT_MAX_COLUMNS;
	int			i;

	if (reader->nomem)
		return;
	/* The buffer may have moved while the row grew: point into it now. */
	for (i = 0; i < kept; i++)
		row->value[i] = reader->buf + reader->value_offset[i];
	if (!reader->in_row)
	{
		/* A row libcsv ended on a line the reader thought blank. */
		row->line_no = reader->line;
		row->raw_offset = reader->line_offset;
	}
	row->end_line = reader->line;
	row->raw_length = raw_end > row->raw_offset ? raw_end - row->raw_offset : 0;
	reader->in_row = false;
	if (row->nvalues > 0 || row->problem != PT_CSV_OK)
		reader->row_fn(row, reader->row_arg);
	row_reset(row);
	reader->buf_used = 0;
}

/* Clears a row's counts; its value arrays are filled as fields arrive. */
static void
row_reset(PtCsvRow *row)
{
	row->line_no = 0;
	row->end_line = 0;
	row->raw_offset = 0;
	row->raw_length = 0;
	row->nfields = 0;
	row->nvalues = 0;
	row->problem = PT_CSV_OK;
	row->problem_line = 0;
}

/* Makes room for more bytes in the value buffer, doubling it. */
static bool
buf_reserve(PtCsvReader *reader, size_t more)
{
	size_t		need = reader->buf_used + more;
	size_t		size = reader->buf_size ? reader->buf_size : 256;
	char	   *buf;

	if (need <= reader->buf_size)
		return true;
	while (size < need)
		size *= 2;
	buf = reader->realloc_fn(reader->buf, size);
	if (buf == NULL)
	{
		reader->nomem = true;
		return false;
	}
	reader->buf = buf;
	reader->buf_size = size;
	return true;
}

/* Length of the line end at data[at]: 2 for CRLF, 1 for LF or a lone CR. */
static size_t
line_end_length(const unsigned char *data, size_t len, size_t at)
{
	if (data[at] == '\r' && at + 1 < len && data[at + 1] == '\n')
		return 2;
	return 1;
}

/*
 * True when a line (or a piece of one) holds nothing but spaces and tabs,
 * so libcsv will hand over no field for it; a tab that is the delimiter
 * separates fields, so it is not blank.
 */
static bool
is_blank(const unsigned char *s, size_t len, unsigned char delimiter)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && (s[i] != '\t' || delimiter == '\t'))
			return false;
	return true;
}

/*
 * Strips spaces, tabs and UTF-8 no-break spaces (U+00A0) from both ends of a
 * value; returns the new length and moves *value past the leading ones.
 */
size_t
pt_trim(const char **value, size_t len)
{
	const unsigned char *s = (const unsigned char *) *value;

	for (;;)
	{
		if (len >= 1 && (s[0] == ' ' || s[0] == '\t'))
			s++, len--;
		else if (len >= 2 && s[0] == 0xC2 && s[1] == 0xA0)
			s += 2, len -= 2;
		else
			break;
	}
	for (;;)
	{
		if (len >= 1 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		else if (len >= 2 && s[len - 2] == 0xC2 && s[len - 1] == 0xA0)
			len -= 2;
		else
			break;
	}
	*value = (const char *) s;
	return len;
}

/* The physical line (1-based) that holds data[offset]. */
long
pt_line_of_offset(const void *data, size_t len, size_t offset)
{
	const unsigned char *s = data;
	long		line = 1;
	size_t		i;

	for (i = 0; i < offset && i < len; i++)
	{
		if (s[i] == '\n')
			line++;
		else if (s[i] == '\r' && !(i + 1 < len && s[i + 1] == '\n'))
			line++;
	}
	return line;
}
