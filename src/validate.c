/*-------------------------------------------------------------------------
 *
 * validate.c
 *	  Checks one CSV row against the client file rules and says, for every
 *	  problem, its code, its severity and what the practice should do.  The
 *	  import, the dry run and the inbox all use this one validator.  Values
 *	  are taken as spreadsheets write them: trimmed of every kind of space and
 *	  normalised to NFC (textnorm.c), a date of birth gives its year, gender
 *	  words count, mobile numbers with + and separators are normalised, and
 *	  what a spreadsheet has corrupted (scientific notation, dropped leading
 *	  zeros) is never stored.
 *
 *-------------------------------------------------------------------------
 */
#include "validate.h"

#include "textnorm.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

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
	[PT_CLIENT_NOT_FOUND] = "client_not_found",
	[PT_IGNORED_COLUMNS] = "ignored_columns",
	[PT_SCIENTIFIC_NOTATION] = "scientific_notation"
};

/* Character limits of the fields that have one (0: a rule of its own). */
static const size_t field_limits[PT_NFIELDS] = {
	PT_MAX_INTERNAL_ID, PT_MAX_NAME, PT_MAX_NAME, 0, 0,
	0, 0, PT_MAX_DIAGNOSIS, PT_MAX_GROUP
};

/*
 * Bytes of PtRowResult.text each field's clean value may take: its limit in
 * 4-byte characters and a NUL.  A value whose clean form does not fit is
 * longer than its field allows.  Year and gender are only parsed, mobile
 * numbers are at most 17 characters when valid.
 */
#define ROOM(chars) ((chars) * 4 + 1)
static const size_t text_room[PT_NFIELDS] = {
	ROOM(PT_MAX_INTERNAL_ID), ROOM(PT_MAX_NAME), ROOM(PT_MAX_NAME), 64, 64,
	ROOM(PT_MAX_EMAIL), ROOM(64), ROOM(PT_MAX_DIAGNOSIS), ROOM(PT_MAX_GROUP)
};

/* PtRowResult.text holds every field's room (checked at compile time). */
typedef char pt_text_room_fits[(ROOM(PT_MAX_INTERNAL_ID) + 2 * ROOM(PT_MAX_NAME) + 64 + 64 +
								ROOM(PT_MAX_EMAIL) + ROOM(64) + ROOM(PT_MAX_DIAGNOSIS) +
								ROOM(PT_MAX_GROUP) <= PT_RESULT_TEXT) ? 1 : -1];

/* The words a gender may be written as, case folded (see README). */
static const struct
{
	const char *word;
	char		gender;
}			gender_words[] = {
	{"m", 'm'}, {"male", 'm'}, {"man", 'm'}, {"mann", 'm'},
	{"m\xc3\xa4nnlich", 'm'}, {"mannelijk", 'm'},
	{"f", 'f'}, {"female", 'f'}, {"woman", 'f'}, {"v", 'f'}, {"vrouw", 'f'},
	{"vrouwelijk", 'f'}, {"w", 'f'}, {"frau", 'f'}, {"weiblich", 'f'},
};

/* The outcome of reading a year of birth. */
typedef enum PtYearParse
{
	PT_YEAR_NONE,				/* neither a year nor a date */
	PT_YEAR_FOUND,				/* a year, or a date that is real */
	PT_YEAR_NOT_A_DATE			/* shaped like a date, real in no reading */
} PtYearParse;

static void check_malformed(const PtCsvRow *row, PtRowResult *result);
static void check_extra_fields(const PtCsvRow *row, const PtColumnMap *map,
							   PtRowResult *result);
static bool check_value(PtField field, const char *s, size_t len, char *room,
						PtRowResult *result);
static void check_internal_id(PtRowResult *result);
static void check_year(int this_year, PtRowResult *result);
static void check_gender(PtRowResult *result);
static void check_email(PtRowResult *result);
static void check_mobile(char *room, PtRowResult *result);
static PtYearParse parse_year(const char *s, size_t len, int *year);
static bool normalize_mobile(const char *s, size_t len, char *out, size_t size,
							 size_t *out_len);
static bool valid_domain(const char *s, size_t len);
static bool looks_like_words(const char *s, size_t len);

const char *
pt_field_name(PtField field)
{
	return field == PT_FIELD_NONE ? NULL : field_names[field];
}

/* A field as PT Direct's help names it, for a header row: "First name". */
const char *
pt_field_title(PtField field)
{
	static char titles[PT_NFIELDS][32];

	if (titles[field][0] == '\0')
	{
		snprintf(titles[field], sizeof(titles[field]), "%s", field_labels[field]);
		titles[field][0] = (char) toupper((unsigned char) titles[field][0]);
	}
	return titles[field];
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

/* The map of a file without header: PT Direct's nine columns in order. */
void
pt_map_positional(PtColumnMap *map)
{
	int			f;

	pt_map_init(map, PT_NFIELDS);
	map->positional = true;
	for (f = 0; f < PT_NFIELDS; f++)
	{
		map->column[f] = f;
		map->field[f] = (signed char) f;
	}
}

/* An empty map of ncolumns columns (at most PT_MAX_COLUMNS): all ignored. */
void
pt_map_init(PtColumnMap *map, int ncolumns)
{
	int			f;

	map->positional = false;
	map->delimiter = ',';
	map->ncolumns = ncolumns < PT_MAX_COLUMNS ? ncolumns : PT_MAX_COLUMNS;
	for (f = 0; f < PT_NFIELDS; f++)
		map->column[f] = -1;
	memset(map->field, PT_FIELD_NONE, sizeof(map->field));
}

/* Starts an empty result. */
void
pt_result_init(PtRowResult *result)
{
	int			f;

	result->failed = false;
	result->birth_year = 0;
	result->gender = '\0';
	result->nissues = 0;
	for (f = 0; f < PT_NFIELDS; f++)
	{
		result->keep[f] = false;
		result->value[f] = "";
		result->length[f] = 0;
	}
}

/*
 * Validates one row, whose columns map gives the fields of.  this_year is
 * the database's current year; first_row says whether this is the file's
 * first non-blank row (a header there is recognised as such).
 */
void
pt_validate_row(const PtCsvRow *row, const PtColumnMap *map, int this_year,
				bool first_row, PtRowResult *result)
{
	size_t		offset = 0;
	int			f;

	pt_result_init(result);

	if (row->problem != PT_CSV_OK)
	{
		check_malformed(row, result);
		return;
	}

	if (first_row && map->positional && pt_looks_like_header(row, map))
	{
		pt_add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_HEADER_ROW,
					 "The first row looks like a header row (its year of birth is text), "
					 "but its column names were not recognised, so it was not imported. "
					 "Name the columns Internal ID, First name, Last name, Year of birth, "
					 "Gender and so on, or leave the header row out.");
		return;
	}

	check_extra_fields(row, map, result);

	for (f = 0; f < PT_NFIELDS; f++)
	{
		char	   *room = result->text + offset;
		size_t		len;
		const char *s = pt_row_value(row, map->column[f], &len);

		offset += text_room[f];
		if (!check_value((PtField) f, s, len, room, result))
			continue;

		switch ((PtField) f)
		{
			case PT_FIELD_INTERNAL_ID:
				check_internal_id(result);
				break;
			case PT_FIELD_BIRTH_YEAR:
				check_year(this_year, result);
				break;
			case PT_FIELD_GENDER:
				check_gender(result);
				break;
			case PT_FIELD_EMAIL:
				check_email(result);
				break;
			case PT_FIELD_MOBILE:
				check_mobile(room, result);
				break;
			default:
				result->keep[f] = true;
				break;
		}
	}

	if (result->keep[PT_FIELD_INTERNAL_ID] &&
		pt_looks_like_national_id(result->value[PT_FIELD_INTERNAL_ID],
								  result->length[PT_FIELD_INTERNAL_ID]))
		pt_add_issue(result, PT_WARNING, PT_FIELD_INTERNAL_ID, PT_NATIONAL_ID,
					 "The internal_id looks like an NHS or social security number, so the "
					 "log keeps it masked. Use a neutral key of your own instead.");
}

/* Records that the row repeats the internal_id of the row on first_line. */
void
pt_add_duplicate(PtRowResult *result, long first_line)
{
	pt_add_issue(result, PT_ERROR, PT_FIELD_INTERNAL_ID, PT_DUPLICATE_INTERNAL_ID,
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

	pt_result_init(&result);
	if (insert_mode)
		pt_add_issue(&result, PT_ERROR, PT_FIELD_INTERNAL_ID, PT_CLIENT_EXISTS,
					 "A client with this internal_id exists already, and the import's "
					 "mode 'insert' only adds new clients, so the row was not imported. "
					 "Use mode 'upsert' to update existing clients too.");
	else
		pt_add_issue(&result, PT_ERROR, PT_FIELD_INTERNAL_ID, PT_CLIENT_NOT_FOUND,
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
			pt_add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_MALFORMED_CSV,
						 "Line %ld has a double quote inside a value that does not start "
						 "with one. Put the whole value in double quotes and double each "
						 "quote inside it (\"\").", row->problem_line);
			break;
		case PT_CSV_TEXT_AFTER_QUOTE:
			pt_add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_MALFORMED_CSV,
						 "Line %ld has text after the closing double quote of a value. "
						 "Put the whole value in double quotes and double each quote "
						 "inside it (\"\").", row->problem_line);
			break;
		case PT_CSV_UNCLOSED_QUOTE:
			if (row->end_line > row->line_no)
				pt_add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_MALFORMED_CSV,
							 "A double-quoted value that starts on line %ld is never closed, "
							 "so lines %ld to %ld could not be read. Add the closing "
							 "double quote.", row->line_no, row->line_no, row->end_line);
			else
				pt_add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_MALFORMED_CSV,
							 "A double-quoted value on line %ld is never closed. "
							 "Add the closing double quote.", row->line_no);
			break;
		case PT_CSV_OK:
			break;
	}
}

/*
 * too_many_fields: a value past the columns the file has (PT Direct's nine,
 * the header's, or the columns argument's).  Empty fields at the end of a
 * row, as Excel writes them, do not count.
 */
static void
check_extra_fields(const PtCsvRow *row, const PtColumnMap *map, PtRowResult *result)
{
	if (row->nvalues <= map->ncolumns)
		return;
	if (map->positional)
		pt_add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_TOO_MANY_FIELDS,
					 "The row has %d fields; a row has at most %d (internal_id, first name, "
					 "last name, year of birth, gender, email, mobile number, diagnosis code, "
					 "client group). Put values that contain %s in double quotes.",
					 row->nvalues, PT_NFIELDS,
					 map->delimiter == ';' ? "semicolons" :
					 map->delimiter == '\t' ? "tabs" :
					 map->delimiter == '|' ? "a |" : "commas");
	else
		pt_add_issue(result, PT_ERROR, PT_FIELD_NONE, PT_TOO_MANY_FIELDS,
					 "The row has %d fields, more than the file's %d columns, so its "
					 "values may be in the wrong columns. Put values that contain the "
					 "delimiter in double quotes.",
					 row->nvalues, map->ncolumns);
}

/*
 * Checks presence, length and characters of one value, and sets what would
 * be stored of it: trimmed of every space and in NFC, in the row or in room.
 * Returns true when the value is non-empty and passed, so that its format
 * can be checked.
 */
static bool
check_value(PtField field, const char *s, size_t len, char *room, PtRowResult *result)
{
	bool		required = field < PT_NREQUIRED;
	PtSeverity	severity = required ? PT_ERROR : PT_WARNING;
	const char *label = field_labels[field];
	PtText		text = {0};
	PtTextStatus status = PT_TEXT_OK;

	if (len > 0)
		status = pt_text_clean(s, len, room, text_room[field], &text);
	if (len == 0 || text.len == 0)
	{
		if (required)
			pt_add_issue(result, PT_ERROR, field, PT_MISSING_FIELD,
						 "The %s is empty or missing; every row needs one, so the row "
						 "was not imported.", label);
		return false;
	}
	if (field_limits[field] > 0 && text.chars > field_limits[field])
	{
		pt_add_issue(result, severity, field, PT_FIELD_TOO_LONG,
					 "The %s is %zu characters long; at most %zu are allowed. %s",
					 label, text.chars, field_limits[field],
					 required ? "The row was not imported." : "It was not stored.");
		return false;
	}
	if (status == PT_TEXT_CONTROL)
	{
		pt_add_issue(result, severity, field, PT_INVALID_CHARACTERS,
					 "The %s contains a control character (such as a line break or tab "
					 "inside quotes). %s",
					 label, required ? "Remove it; the row was not imported."
					 : "Remove it; the value was not stored.");
		return false;
	}
	if (status == PT_TEXT_INVISIBLE)
	{
		pt_add_issue(result, severity, field, PT_INVALID_CHARACTERS,
					 "The %s contains U+%04X, %s, so it would differ from the same "
					 "text without it. %s",
					 label, (unsigned) text.bad_char,
					 text.bad_char == 0x2028 ? "a line separator" :
					 text.bad_char == 0x2029 ? "a paragraph separator" :
					 "an invisible formatting character (such as a zero-width space "
					 "or a direction mark)",
					 required ? "Remove it; the row was not imported."
					 : "Remove it; the value was not stored.");
		return false;
	}
	/* PT_TEXT_TOO_LONG here: a field with a rule of its own, which refuses it. */
	result->value[field] = text.s;
	result->length[field] = text.len;
	return true;
}

/* An internal_id that a spreadsheet turned into scientific notation fails. */
static void
check_internal_id(PtRowResult *result)
{
	const char *s = result->value[PT_FIELD_INTERNAL_ID];
	size_t		len = result->length[PT_FIELD_INTERNAL_ID];
	char		shown[PT_SHOW_SIZE];

	if (!pt_looks_scientific(s, len))
	{
		result->keep[PT_FIELD_INTERNAL_ID] = true;
		return;
	}
	pt_add_issue(result, PT_ERROR, PT_FIELD_INTERNAL_ID, PT_SCIENTIFIC_NOTATION,
				 "The internal_id %s is a number in scientific notation, as a spreadsheet "
				 "writes long numbers: its last digits are lost and different ids can "
				 "become the same, so the row was not imported. Format the id column as "
				 "Text in the spreadsheet, restore the ids and save the file again.",
				 pt_show_value(shown, sizeof(shown), s, len));
}

static void
check_year(int this_year, PtRowResult *result)
{
	const char *s = result->value[PT_FIELD_BIRTH_YEAR];
	size_t		len = result->length[PT_FIELD_BIRTH_YEAR];
	char		shown[PT_SHOW_SIZE];
	int			year = 0;
	PtYearParse parsed = parse_year(s, len, &year);

	if (parsed == PT_YEAR_FOUND && year >= this_year - 100 && year <= this_year)
	{
		result->birth_year = year;
		result->keep[PT_FIELD_BIRTH_YEAR] = true;
		return;
	}
	if (parsed == PT_YEAR_NOT_A_DATE)
		pt_add_issue(result, PT_ERROR, PT_FIELD_BIRTH_YEAR, PT_INVALID_YEAR,
					 "Year of birth %s is not a real date (with the year last, day and "
					 "month were tried both ways round). Write the year as four digits, "
					 "such as 1977, or the date of birth, such as 1977-03-15.",
					 pt_show_value(shown, sizeof(shown), s, len));
	else
		pt_add_issue(result, PT_ERROR, PT_FIELD_BIRTH_YEAR, PT_INVALID_YEAR,
					 "Year of birth %s is not a year from %d to %d. Write the year as "
					 "four digits, such as 1977, or the date of birth, such as 1977-03-15.",
					 pt_show_value(shown, sizeof(shown), s, len), this_year - 100, this_year);
}

static void
check_gender(PtRowResult *result)
{
	const char *s = result->value[PT_FIELD_GENDER];
	size_t		len = result->length[PT_FIELD_GENDER];
	char		shown[PT_SHOW_SIZE];
	int			gender = pt_parse_gender(s, len);

	if (gender != 0)
	{
		result->gender = (char) gender;
		result->keep[PT_FIELD_GENDER] = true;
		return;
	}
	pt_add_issue(result, PT_ERROR, PT_FIELD_GENDER, PT_INVALID_GENDER,
				 "Gender %s is not one of m or f, male or female, man or woman (or Dutch "
				 "m/v, man/vrouw, German m/w, m\xc3\xa4nnlich/weiblich), in any case. "
				 "Write m or f.",
				 pt_show_value(shown, sizeof(shown), s, len));
}

static void
check_email(PtRowResult *result)
{
	const char *s = result->value[PT_FIELD_EMAIL];
	size_t		len = result->length[PT_FIELD_EMAIL];
	char		shown[PT_SHOW_SIZE];

	if (pt_valid_email(s, len))
	{
		result->keep[PT_FIELD_EMAIL] = true;
		return;
	}
	pt_add_issue(result, PT_WARNING, PT_FIELD_EMAIL, PT_INVALID_EMAIL,
				 "Email %s is not a valid address, so it was not stored. "
				 "Write it as name@example.com, at most %d characters.",
				 pt_show_value(shown, sizeof(shown), s, len), PT_MAX_EMAIL);
}

/*
 * A mobile number in international format is stored as 00 and digits;
 * one written with + or 00 and separators is stored so normalised.
 */
static void
check_mobile(char *room, PtRowResult *result)
{
	const char *s = result->value[PT_FIELD_MOBILE];
	size_t		len = result->length[PT_FIELD_MOBILE];
	char		shown[PT_SHOW_SIZE];
	char		digits[24];
	size_t		n;
	size_t		i;

	if (pt_valid_mobile(s, len))
	{
		result->keep[PT_FIELD_MOBILE] = true;
		return;
	}
	if (normalize_mobile(s, len, digits, sizeof(digits), &n) && pt_valid_mobile(digits, n))
	{
		memcpy(room, digits, n);
		room[n] = '\0';
		result->value[PT_FIELD_MOBILE] = room;
		result->length[PT_FIELD_MOBILE] = n;
		result->keep[PT_FIELD_MOBILE] = true;
		return;
	}

	pt_show_value(shown, sizeof(shown), s, len);
	if (pt_looks_scientific(s, len))
	{
		pt_add_issue(result, PT_WARNING, PT_FIELD_MOBILE, PT_SCIENTIFIC_NOTATION,
					 "Mobile number %s is in scientific notation, as a spreadsheet writes "
					 "long numbers: its digits are lost, so it was not stored. Format the "
					 "mobile column as Text in the spreadsheet, write the numbers as 00 "
					 "and digits, and save the file again.", shown);
		return;
	}

	/* Digits only, no leading 0, as long as a number with its country code. */
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			break;
	if (i == len && len >= 10 && len <= 15 && s[0] != '0')
		pt_add_issue(result, PT_WARNING, PT_FIELD_MOBILE, PT_INVALID_MOBILE,
					 "Mobile number %s has no leading 00: a spreadsheet probably dropped "
					 "the zeros of 00%.*s, so it was not stored. Format the mobile column "
					 "as Text in the spreadsheet, write the numbers with their 00 (or +), "
					 "and save the file again.", shown, (int) len, s);
	else
		pt_add_issue(result, PT_WARNING, PT_FIELD_MOBILE, PT_INVALID_MOBILE,
					 "Mobile number %s is not an international number, so it was not "
					 "stored. Write + or 00, the country code and the number: "
					 "+31 6 1122 3344 or 0031611223344.", shown);
}

/*
 * A number written internationally, as 00 and digits: + or 00 first, then
 * digits with spaces, dashes, dots, slashes or parentheses between them; a
 * trunk prefix "(0)" after the country code ("+44 (0)7911 123456") is
 * dropped.  False when s is not such a number or does not fit in out.
 */
static bool
normalize_mobile(const char *s, size_t len, char *out, size_t size, size_t *out_len)
{
	size_t		n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (c >= '0' && c <= '9')
		{
			if (n + 1 >= size)
				return false;
			out[n++] = c;
		}
		else if (c == '+')
		{
			if (n > 0)
				return false;
			out[n++] = '0';
			out[n++] = '0';
		}
		else if (c == '(' && n > 2 && i + 2 < len && s[i + 1] == '0' && s[i + 2] == ')')
			i += 2;
		else if (c == '\0' || strchr(" -./()", c) == NULL)
			return false;
	}
	if (n < 2 || out[0] != '0' || out[1] != '0')
		return false;
	*out_len = n;
	return true;
}

/*
 * A number as a spreadsheet writes it in scientific notation: digits, a
 * decimal point or comma and digits, E, a sign and the exponent
 * ("1.23457E+11", "5,58199E+12").  The sign is required: it is always
 * written, and ids such as "12E4" stay ids.
 */
bool
pt_looks_scientific(const char *s, size_t len)
{
	size_t		i = 0;
	size_t		digits = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (digits == 0)
		return false;
	if (i < len && (s[i] == '.' || s[i] == ','))
	{
		i++;
		digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
		if (digits == 0)
			return false;
	}
	if (i + 2 >= len || (s[i] != 'E' && s[i] != 'e') || (s[i + 1] != '+' && s[i + 1] != '-'))
		return false;
	i += 2;
	digits = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	return i == len && digits >= 1 && digits <= 3;
}

/* Reads up to max digits at s[*i]; false unless there are at least min. */
static bool
read_number(const char *s, size_t len, size_t *i, int min, int max, int *value)
{
	int			n = 0;

	*value = 0;
	while (*i < len && n < max && s[*i] >= '0' && s[*i] <= '9')
	{
		*value = *value * 10 + (s[*i] - '0');
		(*i)++;
		n++;
	}
	return n >= min && !(*i < len && s[*i] >= '0' && s[*i] <= '9');
}

/* True when y-m-d is a date of the Gregorian calendar. */
static bool
real_date(int y, int m, int d)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			last;

	if (m < 1 || m > 12 || d < 1)
		return false;
	last = days[m - 1];
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		last = 29;
	return d <= last;
}

/*
 * A time of day after a date, as spreadsheets and exports add it: a space
 * or T, H:MM, optionally :SS, optionally AM or PM ("15/03/1977 00:00:00",
 * "3/15/1977 12:00:00 AM").
 */
static bool
valid_time(const char *s, size_t len, size_t i)
{
	int			h;
	int			m;
	int			sec = 0;
	bool		ampm = false;

	if (i == len)
		return true;
	if (s[i] != ' ' && s[i] != 'T')
		return false;
	i++;
	if (!read_number(s, len, &i, 1, 2, &h) || i >= len || s[i] != ':')
		return false;
	i++;
	if (!read_number(s, len, &i, 2, 2, &m))
		return false;
	if (i < len && s[i] == ':')
	{
		i++;
		if (!read_number(s, len, &i, 2, 2, &sec))
			return false;
	}
	if (i + 3 == len && s[i] == ' ' &&
		(s[i + 1] == 'A' || s[i + 1] == 'P' || s[i + 1] == 'a' || s[i + 1] == 'p') &&
		(s[i + 2] == 'M' || s[i + 2] == 'm'))
	{
		ampm = true;
		i += 3;
	}
	if (i != len || m > 59 || sec > 59)
		return false;
	return ampm ? (h >= 1 && h <= 12) : h <= 23;
}

/*
 * The year of birth in a value: digits only (a year), or a date with a
 * four-digit year, - / or . between its parts, and maybe a time after it:
 * 1977-03-15 (year first), 15-03-1977, 15/03/1977, 03/15/1977, 15.3.1977.
 * With the year last, day and month may be either way round: the date must
 * be real in at least one reading.  Only the year is taken.
 */
static PtYearParse
parse_year(const char *s, size_t len, int *year)
{
	size_t		i = 0;
	int			a;
	int			b;
	int			y;
	char		sep;

	/* A year alone: digits only, at most 9 of them. */
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == len)
	{
		if (len == 0 || len > 9)
			return PT_YEAR_NONE;
		*year = atoi(s);
		return PT_YEAR_FOUND;
	}

	i = 0;
	if (len >= 8 && read_number(s, len, &i, 4, 4, &y))
	{
		/* Year first: y-m-d. */
		sep = s[i];
		if ((sep != '-' && sep != '/' && sep != '.') || ++i >= len ||
			!read_number(s, len, &i, 1, 2, &a) || i >= len || s[i] != sep)
			return PT_YEAR_NONE;
		i++;
		if (!read_number(s, len, &i, 1, 2, &b) || !valid_time(s, len, i))
			return PT_YEAR_NONE;
		if (!real_date(y, a, b))
			return PT_YEAR_NOT_A_DATE;
		*year = y;
		return PT_YEAR_FOUND;
	}

	/* Year last: d-m-y or m-d-y. */
	i = 0;
	if (!read_number(s, len, &i, 1, 2, &a) || i >= len)
		return PT_YEAR_NONE;
	sep = s[i];
	if (sep != '-' && sep != '/' && sep != '.')
		return PT_YEAR_NONE;
	i++;
	if (!read_number(s, len, &i, 1, 2, &b) || i >= len || s[i] != sep)
		return PT_YEAR_NONE;
	i++;
	if (!read_number(s, len, &i, 4, 4, &y) || !valid_time(s, len, i))
		return PT_YEAR_NONE;
	if (!real_date(y, b, a) && !real_date(y, a, b))
		return PT_YEAR_NOT_A_DATE;
	*year = y;
	return PT_YEAR_FOUND;
}

/* 'm' or 'f' for a gender written as one of gender_words, in any case; else 0. */
int
pt_parse_gender(const char *s, size_t len)
{
	char		folded[32];
	size_t		n;
	size_t		i;

	if (len == 1)
	{
		/* The common case without folding. */
		if (s[0] == 'm' || s[0] == 'M')
			return 'm';
		if (s[0] == 'f' || s[0] == 'F')
			return 'f';
	}
	n = pt_fold_case(s, len, folded, sizeof(folded));
	if (n == (size_t) -1)
		return 0;
	for (i = 0; i < sizeof(gender_words) / sizeof(gender_words[0]); i++)
		if (strlen(gender_words[i].word) == n && memcmp(gender_words[i].word, folded, n) == 0)
			return gender_words[i].gender;
	return 0;
}

/*
 * A practical email check in the spirit of the WHATWG one: a local part of
 * ASCII letters, digits and !#$%&'*+/=?^_`{|}~.- then @, then a domain of
 * at least two dot-separated labels of letters, digits and inner hyphens
 * (1 to 63 each).  An internationalised domain (müller.de) is checked in
 * its ASCII form, by libidn2 (IDNA2008 with the UTS #46 mapping); the whole
 * address in that form has at most 254 characters.
 */
bool
pt_valid_email(const char *s, size_t len)
{
	static const char local_punct[] = "!#$%&'*+/=?^_`{|}~.-";
	const char *domain;
	size_t		domain_len;
	size_t		at = 0;
	size_t		i;
	char		input[PT_MAX_EMAIL * 4 + 1];
	uint8_t    *ascii = NULL;
	bool		ok;

	if (len == 0 || len > sizeof(input) - 1)
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

	domain = s + at + 1;
	domain_len = len - at - 1;
	for (i = 0; i < domain_len; i++)
		if ((unsigned char) domain[i] >= 0x80)
			break;
	if (i == domain_len)
		return len <= PT_MAX_EMAIL && valid_domain(domain, domain_len);

	/* An internationalised domain: libidn2 gives its ASCII form. */
	if (memchr(domain, '\0', domain_len) != NULL)
		return false;
	memcpy(input, domain, domain_len);
	input[domain_len] = '\0';
	if (idn2_lookup_u8((const uint8_t *) input, &ascii,
					   IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
		return false;
	domain_len = strlen((const char *) ascii);
	ok = at + 1 + domain_len <= PT_MAX_EMAIL &&
		valid_domain((const char *) ascii, domain_len);
	idn2_free(ascii);
	return ok;
}

/* At least two dot-separated labels of ASCII letters, digits and inner hyphens. */
static bool
valid_domain(const char *s, size_t len)
{
	size_t		label_len = 0;
	int			labels = 0;
	size_t		i;

	for (i = 0; i <= len; i++)
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

/*
 * A row whose year-of-birth column holds words, not digits: a header, not
 * a typo, when it is the first row.
 */
bool
pt_looks_like_header(const PtCsvRow *row, const PtColumnMap *map)
{
	size_t		len;
	const char *s = pt_row_value(row, map->column[PT_FIELD_BIRTH_YEAR], &len);

	return looks_like_words(s, len);
}

/* Letters and no digits. */
static bool
looks_like_words(const char *s, size_t len)
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

/*
 * Quotes a value for a message: at most PT_SHOW_CHARS characters, cut on a
 * character boundary, with control characters shown as '?'.
 */
const char *
pt_show_value(char *buf, size_t size, const char *s, size_t len)
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

/* Adds an issue to the row's result (at most PT_MAX_ISSUES are kept). */
void
pt_add_issue(PtRowResult *result, PtSeverity severity, PtField field,
			 PtCode code, const char *fmt,...)
{
	PtIssue    *issue;
	va_list		args;

	if (severity == PT_ERROR)
		result->failed = true;
	if (result->nissues >= PT_MAX_ISSUES)
		return;
	issue = &result->issues[result->nissues++];
	issue->severity = severity;
	issue->field = field;
	issue->code = code;
	va_start(args, fmt);
	vsnprintf(issue->message, sizeof(issue->message), fmt, args);
	va_end(args);
}
