/*-------------------------------------------------------------------------
 *
 * validate.c
 *	  Checks one CSV row against the client file rules and says, for every
 *	  problem, its code, its severity and what the practice should do.  The
 *	  import, the dry run and the inbox all use this one validator.
 *
 *-------------------------------------------------------------------------
 */
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* How many characters of a bad value a message quotes. */
#define PT_SHOW_CHARS 40

static const char *const field_names[PT_NFIELDS] = {
	"internal_id", "first_name", "last_name", "birth_year", "gender",
	"email", "mobile", "diagnosis_code", "client_group"
};

/* Plain-words names for messages. */
static const char *const field_labels[PT_NFIELDS] = {
	"internal_id", "first name", "last name", "year of birth", "gender",
	"email", "mobile number", "diagnosis code", "client group"
};

static const char *const code_names[] = {
	[PT_MALFORMED_CSV] = "malformed_csv",
	[PT_HEADER_ROW] = "header_row",
	[PT_TOO_MANY_FIELDS] = "too_many_fields",
	[PT_MISSING_FIELD] = "missing_field",
	[PT_FIELD_TOO_LONG] = "field_too_long",
	[PT_INVALID_CHARACTERS] = "invalid_characters",
	[PT_INVALID_YEAR] = "invalid_year",
	[PT_INVALID_GENDER] = "invalid_gender",
	[PT_INVALID_EMAIL] = "invalid_email",
	[PT_INVALID_MOBILE] = "invalid_mobile",
	[PT_NATIONAL_ID] = "national_id",
	[PT_DUPLICATE_INTERNAL_ID] = "duplicate_internal_id",
	[PT_CLIENT_EXISTS] = "client_exists",
	[PT_CLIENT_NOT_FOUND] = "client_not_found"
};

/* Character limits of the fields that have one (0: a rule of its own). */
static const size_t field_limits[PT_NFIELDS] = {
	PT_MAX_INTERNAL_ID, PT_MAX_NAME, PT_MAX_NAME, 0, 0,
	0, 0, PT_MAX_DIAGNOSIS, PT_MAX_GROUP
};

static void add_issue(PtRowResult *result, PtSeverity severity, PtField field,
					  PtCode code, const char *fmt,...)
			__attribute__((format(printf, 5, 6)));
static void check_malformed(const PtCsvRow *row, PtRowResult *result);
static bool check_value(const PtCsvRow *row, PtField field, PtRowResult *result);
static void check_year(const char *s, size_t len, int this_year, PtRowResult *result);
static void check_gender(const char *s, size_t len, PtRowResult *result);
static void check_mobile(const char *s, size_t len, PtRowResult *result);
static bool looks_like_header(const char *s, size_t len);
static size_t utf8_chars(const char *s, size_t len);
static bool has_control(const char *s, size_t len);
static const char *show(char *buf, size_t size, const char *s, size_t len);

const char *
pt_field_name(PtField field)
{
	return field == PT_FIELD_NONE ? NULL : field_names[field];
}

const char *
pt_code_name(PtCode code)
{
	return code_names[code];
}

const char *
pt_severity_name(PtSeverity severity)
{
	return severity == PT_ERROR ? "error" : "warning";
}

/*
 * Validates one row.  this_year is the database's current year; first_row
 * says whether this is the file's first non-blank row (a header there is
 * recognised as such).
 */
void
pt_validate_row(const PtCsvRow *row, int this_year, bool first_row,
				PtRowResult *result)
{
	int			f;

	memset(result, 0, sizeof(*result));

	if (row->problem != PT_CSV_OK)
	{
		check_malformed(row, result);
		return;
	}

	if (first_row && looks_like_header(row->value[PT_FIELD_BIRTH_YEAR],
									   row->length[PT_FIELD_BIRTH_YEAR]))
	{
		add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_HEADER_ROW,
				  "The first row looks like a header row (its year of birth is text), "
				  "so it was not imported. Leave header rows out of the file.");
		return;
	}

	if (row->nfields > PT_NFIELDS)
		add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_TOO_MANY_FIELDS,
				  "The row has %d fields; a row has at most %d (internal_id, first name, "
				  "last name, year of birth, gender, email, mobile number, diagnosis code, "
				  "client group). Put values that contain commas in double quotes.",
				  row->nfields, PT_NFIELDS);

	for (f = 0; f < PT_NFIELDS; f++)
	{
		const char *s = row->value[f];
		size_t		len = row->length[f];

		if (!check_value(row, (PtField) f, result))
			continue;

		switch ((PtField) f)
		{
			case PT_FIELD_BIRTH_YEAR:
				check_year(s, len, this_year, result);
				break;
			case PT_FIELD_GENDER:
				check_gender(s, len, result);
				break;
			case PT_FIELD_EMAIL:
				if (pt_valid_email(s, len))
					result->keep[f] = true;
				else
				{
					char		shown[PT_SHOW_CHARS * 4 + 8];

					add_issue(result, PT_WARNING, PT_FIELD_EMAIL, PT_INVALID_EMAIL,
							  "Email %s is not a valid address, so it was not stored. "
							  "Write it as name@example.com, at most %d characters.",
							  show(shown, sizeof(shown), s, len), PT_MAX_EMAIL);
				}
				break;
			case PT_FIELD_MOBILE:
				check_mobile(s, len, result);
				break;
			default:
				result->keep[f] = true;
				break;
		}
	}

	if (result->keep[PT_FIELD_INTERNAL_ID] &&
		pt_looks_like_national_id(row->value[PT_FIELD_INTERNAL_ID],
								  row->length[PT_FIELD_INTERNAL_ID]))
		add_issue(result, PT_WARNING, PT_FIELD_INTERNAL_ID, PT_NATIONAL_ID,
				  "The internal_id looks like an NHS or social security number. "
				  "The row was imported, but use a neutral key of your own instead.");
}

/* Records that the row repeats the internal_id of the row on first_line. */
void
pt_add_duplicate(PtRowResult *result, long first_line)
{
	add_issue(result, PT_ERROR, PT_FIELD_INTERNAL_ID, PT_DUPLICATE_INTERNAL_ID,
			  "This internal_id is already used by the row on line %ld, so this row "
			  "was not imported. Each client must appear once per file.",
			  first_line);
}

/*
 * The issue of a valid row that the import's mode refuses: in mode 'insert'
 * its client exists already, in mode 'update' it does not exist.
 */
void
pt_refused_issue(PtIssue *issue, bool insert_mode)
{
	PtRowResult result;

	memset(&result, 0, sizeof(result));
	if (insert_mode)
		add_issue(&result, PT_ERROR, PT_FIELD_INTERNAL_ID, PT_CLIENT_EXISTS,
				  "A client with this internal_id exists already, and the import's "
				  "mode 'insert' only adds new clients, so the row was not imported. "
				  "Use mode 'upsert' to update existing clients too.");
	else
		add_issue(&result, PT_ERROR, PT_FIELD_INTERNAL_ID, PT_CLIENT_NOT_FOUND,
				  "No client has this internal_id, and the import's mode 'update' "
				  "only changes existing clients, so the row was not imported. "
				  "Use mode 'upsert' to add new clients too.");
	*issue = result.issues[0];
}

/* The one issue of a row that could not be read as CSV. */
static void
check_malformed(const PtCsvRow *row, PtRowResult *result)
{
	switch (row->problem)
	{
		case PT_CSV_STRAY_QUOTE:
			add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_MALFORMED_CSV,
					  "Line %ld has a double quote inside a value that does not start "
					  "with one. Put the whole value in double quotes and double each "
					  "quote inside it (\"\").", row->problem_line);
			break;
		case PT_CSV_TEXT_AFTER_QUOTE:
			add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_MALFORMED_CSV,
					  "Line %ld has text after the closing double quote of a value. "
					  "Put the whole value in double quotes and double each quote "
					  "inside it (\"\").", row->problem_line);
			break;
		case PT_CSV_UNCLOSED_QUOTE:
			if (row->end_line > row->line_no)
				add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_MALFORMED_CSV,
						  "A double-quoted value that starts on line %ld is never closed, "
						  "so lines %ld to %ld could not be read. Add the closing "
						  "double quote.", row->line_no, row->line_no, row->end_line);
			else
				add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_MALFORMED_CSV,
						  "A double-quoted value on line %ld is never closed. "
						  "Add the closing double quote.", row->line_no);
			break;
		case PT_CSV_OK:
			break;
	}
}

/*
 * Checks presence, length and characters of one value.  Returns true when
 * the value is non-empty and passed, so that its format can be checked.
 */
static bool
check_value(const PtCsvRow *row, PtField field, PtRowResult *result)
{
	const char *s = row->value[field];
	size_t		len = row->length[field];
	bool		required = field < PT_NREQUIRED;
	PtSeverity	severity = required ? PT_ERROR : PT_WARNING;
	const char *label = field_labels[field];

	if (len == 0)
	{
		if (required)
			add_issue(result, PT_ERROR, field, PT_MISSING_FIELD,
					  "The %s is empty or missing; every row needs one, so the row "
					  "was not imported.", label);
		return false;
	}
	if (field_limits[field] > 0 && utf8_chars(s, len) > field_limits[field])
	{
		add_issue(result, severity, field, PT_FIELD_TOO_LONG,
				  "The %s is %zu characters long; at most %zu are allowed. %s",
				  label, utf8_chars(s, len), field_limits[field],
				  required ? "The row was not imported." : "It was not stored.");
		return false;
	}
	if (has_control(s, len))
	{
		add_issue(result, severity, field, PT_INVALID_CHARACTERS,
				  "The %s contains a control character (such as a line break or tab "
				  "inside quotes). %s",
				  label, required ? "Remove it; the row was not imported."
				  : "Remove it; the value was not stored.");
		return false;
	}
	return true;
}

static void
check_year(const char *s, size_t len, int this_year, PtRowResult *result)
{
	char		shown[PT_SHOW_CHARS * 4 + 8];
	long		year = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9' || year > 100000)
			break;
		year = year * 10 + (s[i] - '0');
	}
	if (i == len && year >= this_year - 100 && year <= this_year)
	{
		result->birth_year = (int) year;
		result->keep[PT_FIELD_BIRTH_YEAR] = true;
		return;
	}
	add_issue(result, PT_ERROR, PT_FIELD_BIRTH_YEAR, PT_INVALID_YEAR,
			  "Year of birth %s is not a year from %d to %d. Write the year as "
			  "four digits, such as 1977.",
			  show(shown, sizeof(shown), s, len), this_year - 100, this_year);
}

static void
check_gender(const char *s, size_t len, PtRowResult *result)
{
	char		shown[PT_SHOW_CHARS * 4 + 8];

	if (len == 1 && (s[0] == 'm' || s[0] == 'M' || s[0] == 'f' || s[0] == 'F'))
	{
		result->gender = (s[0] == 'm' || s[0] == 'M') ? 'm' : 'f';
		result->keep[PT_FIELD_GENDER] = true;
		return;
	}
	add_issue(result, PT_ERROR, PT_FIELD_GENDER, PT_INVALID_GENDER,
			  "Gender %s is not m or f. Write m or f.",
			  show(shown, sizeof(shown), s, len));
}

static void
check_mobile(const char *s, size_t len, PtRowResult *result)
{
	char		shown[PT_SHOW_CHARS * 4 + 8];
	char		digits[40];
	size_t		n = 0;
	size_t		i;

	if (pt_valid_mobile(s, len))
	{
		result->keep[PT_FIELD_MOBILE] = true;
		return;
	}

	/* Suggest the number rewritten, when it is one with + and separators. */
	for (i = 0; i < len && n + 2 < sizeof(digits); i++)
	{
		if (s[i] >= '0' && s[i] <= '9')
			digits[n++] = s[i];
		else if (s[i] == '+' && n == 0)
		{
			digits[n++] = '0';
			digits[n++] = '0';
		}
		else if (strchr(" -().", s[i]) == NULL)
			break;
	}
	if (i == len && pt_valid_mobile(digits, n))
		add_issue(result, PT_WARNING, PT_FIELD_MOBILE, PT_INVALID_MOBILE,
				  "Mobile number %s is not in international format, so it was not "
				  "stored. Write it as %.*s (00, country code and number, digits only).",
				  show(shown, sizeof(shown), s, len), (int) n, digits);
	else
		add_issue(result, PT_WARNING, PT_FIELD_MOBILE, PT_INVALID_MOBILE,
				  "Mobile number %s is not in international format, so it was not "
				  "stored. Write 00, the country code and the number, digits only: "
				  "+31 6 11223344 becomes 0031611223344.",
				  show(shown, sizeof(shown), s, len));
}

/*
 * A practical email check in the spirit of the WHATWG one: a local part of
 * letters, digits and !#$%&'*+/=?^_`{|}~.- then @, then at least two
 * dot-separated labels of letters, digits and inner hyphens (1 to 63 each).
 */
bool
pt_valid_email(const char *s, size_t len)
{
	static const char local_punct[] = "!#$%&'*+/=?^_`{|}~.-";
	size_t		at = 0;
	size_t		i;
	size_t		label_len = 0;
	int			labels = 0;

	if (len == 0 || len > PT_MAX_EMAIL)
		return false;
	while (at < len && s[at] != '@')
	{
		unsigned char c = (unsigned char) s[at];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || (c != '\0' && strchr(local_punct, c))))
			return false;
		at++;
	}
	if (at == 0 || at > 64 || at + 1 >= len)
		return false;

	for (i = at + 1; i <= len; i++)
	{
		unsigned char c = i < len ? (unsigned char) s[i] : '.';

		if (c == '.')
		{
			if (label_len == 0 || s[i - 1] == '-')
				return false;
			labels++;
			label_len = 0;
		}
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || (c == '-' && label_len > 0))
		{
			if (++label_len > 63)
				return false;
		}
		else
			return false;
	}
	return labels >= 2;
}

/* 00, then 7 to 15 digits (an E.164 number), and nothing else. */
bool
pt_valid_mobile(const char *s, size_t len)
{
	size_t		i;

	if (len < 2 + 7 || len > 2 + 15 || s[0] != '0' || s[1] != '0')
		return false;
	for (i = 2; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * True for a 10-digit number with a valid NHS mod-11 check digit, or a US
 * social security number written ddd-dd-dddd.
 */
bool
pt_looks_like_national_id(const char *s, size_t len)
{
	size_t		i;

	if (len == 10)
	{
		int			sum = 0;
		int			check;

		for (i = 0; i < 10; i++)
			if (s[i] < '0' || s[i] > '9')
				return false;
		for (i = 0; i < 9; i++)
			sum += (s[i] - '0') * (int) (10 - i);
		check = 11 - sum % 11;
		if (check == 11)
			check = 0;
		return check != 10 && check == s[9] - '0';
	}
	if (len == 11)
	{
		for (i = 0; i < 11; i++)
		{
			bool		dash = (i == 3 || i == 6);

			if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
				return false;
		}
		return true;
	}
	return false;
}

/*
 * Writes into out (len + 1 bytes) the form of a national identity number
 * that the issue log keeps: every character but the last three as '*'.
 */
void
pt_mask_national_id(const char *s, size_t len, char *out)
{
	size_t		i;

	for (i = 0; i < len; i++)
		out[i] = i + 3 < len ? '*' : s[i];
	out[len] = '\0';
}

/* A year field of words, not digits, in a first row: a header, not a typo. */
static bool
looks_like_header(const char *s, size_t len)
{
	bool		letter = false;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (s[i] >= '0' && s[i] <= '9')
			return false;
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
			letter = true;
	}
	return letter;
}

/* Characters in UTF-8 text: bytes that do not continue a sequence. */
static size_t
utf8_chars(const char *s, size_t len)
{
	size_t		n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* ASCII controls, DEL, and the C1 controls U+0080 to U+009F. */
static bool
has_control(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (u[i] < 0x20 || u[i] == 0x7F)
			return true;
		if (u[i] == 0xC2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F)
			return true;
	}
	return false;
}

/*
 * Quotes a value for a message: at most PT_SHOW_CHARS characters, cut on a
 * character boundary, with control characters shown as '?'.
 */
static const char *
show(char *buf, size_t size, const char *s, size_t len)
{
	size_t		out = 0;
	size_t		chars = 0;
	size_t		i = 0;

	buf[out++] = '"';
	while (i < len && out + 8 < size)
	{
		unsigned char c = (unsigned char) s[i];

		if ((c & 0xC0) != 0x80 && chars++ == PT_SHOW_CHARS)
			break;
		buf[out++] = (c < 0x20 || c == 0x7F) ? '?' : (char) c;
		i++;
	}
	/* Do not end inside a UTF-8 sequence. */
	while (i < len && ((unsigned char) s[i] & 0xC0) == 0x80 && out > 1)
	{
		out--;
		i--;
	}
	if (i < len)
	{
		memcpy(buf + out, "...", 3);
		out += 3;
	}
	buf[out++] = '"';
	buf[out] = '\0';
	return buf;
}

static void
add_issue(PtRowResult *result, PtSeverity severity, PtField field,
		  PtCode code, const char *fmt,...)
{
	PtIssue    *issue;
	va_list		args;

	if (result->nissues >= PT_MAX_ISSUES)
		return;
	issue = &result->issues[result->nissues++];
	issue->severity = severity;
	issue->field = field;
	issue->code = code;
	va_start(args, fmt);
	vsnprintf(issue->message, sizeof(issue->message), fmt, args);
	va_end(args);
	if (severity == PT_ERROR)
		result->failed = true;
}
