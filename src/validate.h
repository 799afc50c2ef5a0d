/*-------------------------------------------------------------------------
 *
 * validate.h
 *	  The row rules of a client file: which values are required, what makes
 *	  them valid, and the codes and messages of every problem.  Pure C: no
 *	  PostgreSQL headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PTIMPORT_VALIDATE_H
#define PTIMPORT_VALIDATE_H

#include "csvreader.h"

/* The fields of a row, in file order; the names are the table's columns. */
typedef enum PtField
{
	PT_FIELD_NONE = -1,			/* the problem concerns the whole row */
	PT_FIELD_INTERNAL_ID = 0,
	PT_FIELD_FIRST_NAME,
	PT_FIELD_LAST_NAME,
	PT_FIELD_BIRTH_YEAR,
	PT_FIELD_GENDER,
	PT_FIELD_EMAIL,
	PT_FIELD_MOBILE,
	PT_FIELD_DIAGNOSIS_CODE,
	PT_FIELD_CLIENT_GROUP
} PtField;

#define PT_NREQUIRED 5			/* internal_id to gender are required */

/*
 * Which file column holds which field.  Without a header or a columns
 * argument the columns are in PT Direct's order (positional); otherwise a
 * header row or the columns argument names them, in any order.
 */
typedef struct PtColumnMap
{
	bool		positional;		/* PT Direct's order: column i is field i */
	int			ncolumns;		/* columns described: 9, a header's width, or
								 * the columns argument's length */
	int			column[PT_NFIELDS]; /* the file column of each field, -1: none */
	signed char field[PT_MAX_COLUMNS];	/* the field of each described column,
										 * PT_FIELD_NONE: ignored */
	char		delimiter;		/* the file's, for messages */
} PtColumnMap;

/* Problem codes: part of the API, spelled the same in SQL and docs. */
typedef enum PtCode
{
	PT_MALFORMED_CSV,
	PT_HEADER_ROW,
	PT_TOO_MANY_FIELDS,
	PT_MISSING_FIELD,
	PT_FIELD_TOO_LONG,
	PT_INVALID_CHARACTERS,
	PT_INVALID_YEAR,
	PT_INVALID_GENDER,
	PT_INVALID_EMAIL,
	PT_INVALID_MOBILE,
	PT_NATIONAL_ID,
	PT_DUPLICATE_INTERNAL_ID,
	PT_CLIENT_EXISTS,			/* mode 'insert': the client is stored already */
	PT_CLIENT_NOT_FOUND,		/* mode 'update': no such client */
	PT_IGNORED_COLUMNS,
	PT_SCIENTIFIC_NOTATION
} PtCode;

#define PT_LAST_CODE PT_SCIENTIFIC_NOTATION

typedef enum PtSeverity
{
	PT_ERROR,					/* the row is not imported */
	PT_WARNING					/* the row is imported without the field */
} PtSeverity;

#define PT_MESSAGE_MAX 512
#define PT_MAX_ISSUES 16

typedef struct PtIssue
{
	PtSeverity	severity;
	PtField		field;
	PtCode		code;
	char		message[PT_MESSAGE_MAX];
} PtIssue;

/* Room for the values cleaning changed: every field at its limit, in 4-byte characters. */
#define PT_RESULT_TEXT 3200

/*
 * A validated row: what would be stored, and every problem found.  Only the
 * first nissues issues are set, and text only as far as values use it.
 */
typedef struct PtRowResult
{
	bool		failed;			/* some issue is an error */
	bool		keep[PT_NFIELDS];	/* the value is non-empty and valid */
	const char *value[PT_NFIELDS];	/* what is stored of a kept value: trimmed,
									 * NFC, NUL-terminated; points into the row
									 * or into text */
	size_t		length[PT_NFIELDS];
	int			birth_year;
	char		gender;			/* 'm' or 'f' */
	int			nissues;
	PtIssue		issues[PT_MAX_ISSUES];
	char		text[PT_RESULT_TEXT];
} PtRowResult;

/* Length limits in characters (email has its own rule). */
#define PT_MAX_INTERNAL_ID	64
#define PT_MAX_NAME			100
#define PT_MAX_DIAGNOSIS	64
#define PT_MAX_GROUP		100
#define PT_MAX_EMAIL		254

extern void pt_map_positional(PtColumnMap *map);
extern void pt_map_init(PtColumnMap *map, int ncolumns);
extern void pt_validate_row(const PtCsvRow *row, const PtColumnMap *map,
							int this_year, bool first_row, PtRowResult *result);
extern bool pt_looks_like_header(const PtCsvRow *row, const PtColumnMap *map);
extern void pt_result_init(PtRowResult *result);
extern void pt_add_issue(PtRowResult *result, PtSeverity severity, PtField field,
						 PtCode code, const char *fmt,...)
			__attribute__((format(printf, 5, 6)));
extern void pt_add_duplicate(PtRowResult *result, long first_line);
extern void pt_refused_issue(PtIssue *issue, bool insert_mode);
extern const char *pt_show_value(char *buf, size_t size, const char *s, size_t len);
extern const char *pt_field_name(PtField field);
extern const char *pt_field_title(PtField field);
extern const char *pt_code_name(PtCode code);
extern const char *pt_severity_name(PtSeverity severity);
extern bool pt_valid_email(const char *s, size_t len);
extern bool pt_valid_mobile(const char *s, size_t len);
extern bool pt_looks_like_national_id(const char *s, size_t len);
extern void pt_mask_national_id(const char *s, size_t len, char *out);
extern bool pt_looks_scientific(const char *s, size_t len);
extern int	pt_parse_gender(const char *s, size_t len);

/* Room pt_show_value needs for a value it quotes. */
#define PT_SHOW_SIZE (40 * 4 + 8)

#endif							/* PTIMPORT_VALIDATE_H */
