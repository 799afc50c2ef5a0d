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
	PT_CLIENT_NOT_FOUND			/* mode 'update': no such client */
} PtCode;

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

/* A validated row: what would be stored, and every problem found. */
typedef struct PtRowResult
{
	bool		failed;			/* some issue is an error */
	bool		keep[PT_NFIELDS];	/* the value is non-empty and valid */
	int			birth_year;
	char		gender;			/* 'm' or 'f' */
	int			nissues;
	PtIssue		issues[PT_MAX_ISSUES];
} PtRowResult;

/* Length limits in characters (email has its own rule). */
#define PT_MAX_INTERNAL_ID	64
#define PT_MAX_NAME			100
#define PT_MAX_DIAGNOSIS	64
#define PT_MAX_GROUP		100
#define PT_MAX_EMAIL		254

extern void pt_validate_row(const PtCsvRow *row, int this_year, bool first_row,
							PtRowResult *result);
extern void pt_add_duplicate(PtRowResult *result, long first_line);
extern void pt_refused_issue(PtIssue *issue, bool insert_mode);
extern const char *pt_field_name(PtField field);
extern const char *pt_code_name(PtCode code);
extern const char *pt_severity_name(PtSeverity severity);
extern bool pt_valid_email(const char *s, size_t len);
extern bool pt_valid_mobile(const char *s, size_t len);
extern bool pt_looks_like_national_id(const char *s, size_t len);
extern void pt_mask_national_id(const char *s, size_t len, char *out);

#endif							/* PTIMPORT_VALIDATE_H */
