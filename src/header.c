/*-------------------------------------------------------------------------
 *
 * header.c
 *	  Header rows.  One table lists, for each field, the column names that
 *	  mean it: PT Direct's own, common English synonyms and Dutch and German
 *	  ones.  Names are compared as keys: case folded, accents, spaces and
 *	  punctuation dropped ("E-mail address" and "emailaddress" are one key,
 *	  and so are "Patiëntnummer" and "patientnummer").  Each name has a rank:
 *	  when two columns name one field, the better rank wins and the other
 *	  column is ignored; two equally good ones make the header ambiguous.
 *
 *-------------------------------------------------------------------------
 */
#include "header.h"

#include "textnorm.h"

#include <stdio.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

/* Longest key a header cell is turned into. */
#define PT_KEY_MAX 40

/* Ranks: PT Direct's own name, a synonym, a name that also means other things. */
#define RANK_OWN		0
#define RANK_SYNONYM	1
#define RANK_WEAK		2

typedef struct PtColumnName
{
	const char *key;			/* lower-case ASCII letters and digits */
	PtField		field;
	int			rank;
} PtColumnName;

/*
 * The column names of each field.  The field names themselves (first_name)
 * have the same keys as PT Direct's (First name).
 */
static const PtColumnName column_names[] = {
	/* internal_id; a bare "ID" only when no better id column is there */
	{"internalid", PT_FIELD_INTERNAL_ID, RANK_OWN},
	{"patientid", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"clientid", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"patientnumber", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"clientnumber", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"patientno", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"clientno", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"patientnr", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"clientnr", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"patientcode", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"clientcode", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"externalid", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"patientnummer", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},	/* nl: patiëntnummer */
	{"clientnummer", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},	/* nl: cliëntnummer */
	{"dossiernummer", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"patientennummer", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},	/* de */
	{"klientennummer", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"patientenid", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"klientenid", PT_FIELD_INTERNAL_ID, RANK_SYNONYM},
	{"id", PT_FIELD_INTERNAL_ID, RANK_WEAK},

	{"firstname", PT_FIELD_FIRST_NAME, RANK_OWN},
	{"givenname", PT_FIELD_FIRST_NAME, RANK_SYNONYM},
	{"givennames", PT_FIELD_FIRST_NAME, RANK_SYNONYM},
	{"forename", PT_FIELD_FIRST_NAME, RANK_SYNONYM},
	{"forenames", PT_FIELD_FIRST_NAME, RANK_SYNONYM},
	{"voornaam", PT_FIELD_FIRST_NAME, RANK_SYNONYM},	/* nl */
	{"voornamen", PT_FIELD_FIRST_NAME, RANK_SYNONYM},
	{"vorname", PT_FIELD_FIRST_NAME, RANK_SYNONYM},	/* de */

	{"lastname", PT_FIELD_LAST_NAME, RANK_OWN},
	{"surname", PT_FIELD_LAST_NAME, RANK_SYNONYM},
	{"familyname", PT_FIELD_LAST_NAME, RANK_SYNONYM},
	{"achternaam", PT_FIELD_LAST_NAME, RANK_SYNONYM},	/* nl */
	{"familienaam", PT_FIELD_LAST_NAME, RANK_SYNONYM},
	{"nachname", PT_FIELD_LAST_NAME, RANK_SYNONYM},	/* de */
	{"familienname", PT_FIELD_LAST_NAME, RANK_SYNONYM},

	/* a year column is better than a date column */
	{"yearofbirth", PT_FIELD_BIRTH_YEAR, RANK_OWN},
	{"birthyear", PT_FIELD_BIRTH_YEAR, RANK_SYNONYM},
	{"geboortejaar", PT_FIELD_BIRTH_YEAR, RANK_SYNONYM},	/* nl */
	{"geburtsjahr", PT_FIELD_BIRTH_YEAR, RANK_SYNONYM},	/* de */
	{"dateofbirth", PT_FIELD_BIRTH_YEAR, RANK_WEAK},
	{"dob", PT_FIELD_BIRTH_YEAR, RANK_WEAK},
	{"birthdate", PT_FIELD_BIRTH_YEAR, RANK_WEAK},
	{"birthday", PT_FIELD_BIRTH_YEAR, RANK_WEAK},
	{"geboortedatum", PT_FIELD_BIRTH_YEAR, RANK_WEAK},
	{"geburtsdatum", PT_FIELD_BIRTH_YEAR, RANK_WEAK},
	{"geburtstag", PT_FIELD_BIRTH_YEAR, RANK_WEAK},

	{"gender", PT_FIELD_GENDER, RANK_OWN},
	{"sex", PT_FIELD_GENDER, RANK_SYNONYM},
	{"geslacht", PT_FIELD_GENDER, RANK_SYNONYM},	/* nl */
	{"geschlecht", PT_FIELD_GENDER, RANK_SYNONYM},	/* de */

	{"email", PT_FIELD_EMAIL, RANK_OWN},
	{"emailaddress", PT_FIELD_EMAIL, RANK_SYNONYM},
	{"emailadres", PT_FIELD_EMAIL, RANK_SYNONYM},	/* nl */
	{"mailadres", PT_FIELD_EMAIL, RANK_SYNONYM},
	{"emailadresse", PT_FIELD_EMAIL, RANK_SYNONYM},	/* de */
	{"mailadresse", PT_FIELD_EMAIL, RANK_SYNONYM},
	{"mail", PT_FIELD_EMAIL, RANK_WEAK},

	{"mobile", PT_FIELD_MOBILE, RANK_OWN},
	{"mobilenumber", PT_FIELD_MOBILE, RANK_OWN},
	{"mobilephone", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"mobilephonenumber", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"mobileno", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"phonemobile", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"cell", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"cellphone", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"cellnumber", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"cellphonenumber", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"mobiel", PT_FIELD_MOBILE, RANK_SYNONYM},	/* nl */
	{"mobielnummer", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"mobielenummer", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"mobieletelefoon", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"telefoonmobiel", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"gsm", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"gsmnummer", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"handy", PT_FIELD_MOBILE, RANK_SYNONYM},	/* de */
	{"handynummer", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"mobilnummer", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"mobiltelefon", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"mobilfunknummer", PT_FIELD_MOBILE, RANK_SYNONYM},
	{"telefonmobil", PT_FIELD_MOBILE, RANK_SYNONYM},

	{"diagnosiscode", PT_FIELD_DIAGNOSIS_CODE, RANK_OWN},
	{"diagnosis", PT_FIELD_DIAGNOSIS_CODE, RANK_SYNONYM},
	{"diagnose", PT_FIELD_DIAGNOSIS_CODE, RANK_SYNONYM},	/* nl, de */
	{"diagnosecode", PT_FIELD_DIAGNOSIS_CODE, RANK_SYNONYM},

	{"clientgroup", PT_FIELD_CLIENT_GROUP, RANK_OWN},
	{"group", PT_FIELD_CLIENT_GROUP, RANK_SYNONYM},
	{"patientgroup", PT_FIELD_CLIENT_GROUP, RANK_SYNONYM},
	{"groep", PT_FIELD_CLIENT_GROUP, RANK_SYNONYM},	/* nl */
	{"clientgroep", PT_FIELD_CLIENT_GROUP, RANK_SYNONYM},
	{"patientgroep", PT_FIELD_CLIENT_GROUP, RANK_SYNONYM},
	{"gruppe", PT_FIELD_CLIENT_GROUP, RANK_SYNONYM},	/* de */
	{"klientengruppe", PT_FIELD_CLIENT_GROUP, RANK_SYNONYM},
	{"patientengruppe", PT_FIELD_CLIENT_GROUP, RANK_SYNONYM},
};

/*
 * The column ptimport's failed-rows file adds: ignored without a warning,
 * so that a corrected failed-rows file imports as it is.
 */
static const char silent_key[] = "error";

static size_t header_key(const char *s, size_t len, char *key);
static size_t header_key_unicode(const char *s, size_t len, char *key);
static PtField cell_field(const char *s, size_t len, int *rank, bool *silent);

/*
 * Reads a first row as a header: which columns name which fields, which
 * cells name none, and which required fields no cell names.  The row is a
 * header when its cells name at least PT_HEADER_MIN_FIELDS fields.
 */
void
pt_header_match(const PtCsvRow *row, PtHeaderMatch *match)
{
	int			ncolumns = row->nfields < PT_MAX_COLUMNS ? row->nfields : PT_MAX_COLUMNS;
	int			best_rank[PT_NFIELDS];
	int			tie_column[PT_NFIELDS];
	int			col;
	int			f;

	memset(match, 0, sizeof(*match));
	match->ambiguous = PT_FIELD_NONE;
	pt_map_init(&match->map, ncolumns);
	for (f = 0; f < PT_NFIELDS; f++)
	{
		best_rank[f] = RANK_WEAK + 1;
		tie_column[f] = -1;
	}

	for (col = 0; col < ncolumns; col++)
	{
		int			rank;
		bool		silent;
		PtField		field = cell_field(row->value[col], row->length[col], &rank, &silent);

		if (field == PT_FIELD_NONE)
			continue;
		if (rank < best_rank[field])
		{
			best_rank[field] = rank;
			match->map.column[field] = col;
			tie_column[field] = -1;
		}
		else if (rank == best_rank[field] && tie_column[field] < 0)
			tie_column[field] = col;
	}

	for (f = 0; f < PT_NFIELDS; f++)
	{
		if (match->map.column[f] < 0)
		{
			if (f < PT_NREQUIRED)
				match->missing[match->nmissing++] = (PtField) f;
			continue;
		}
		match->nnamed++;
		match->map.field[match->map.column[f]] = (signed char) f;
		if (tie_column[f] >= 0 && match->ambiguous == PT_FIELD_NONE)
		{
			match->ambiguous = (PtField) f;
			match->ambiguous_columns[0] = match->map.column[f];
			match->ambiguous_columns[1] = tie_column[f];
		}
	}
	match->is_header = match->nnamed >= PT_HEADER_MIN_FIELDS;

	for (col = 0; col < ncolumns; col++)
		if (pt_header_cell_ignored(row, &match->map, col))
			match->nignored++;
}

/*
 * True when column col of a header row has a name that the map does not
 * use (not an empty cell, nor the Error column of a failed-rows file).
 */
bool
pt_header_cell_ignored(const PtCsvRow *row, const PtColumnMap *map, int col)
{
	size_t		len;
	const char *s = pt_row_value(row, col, &len);
	int			rank;
	bool		silent;

	if (len == 0 || (col < PT_MAX_COLUMNS && map->field[col] != PT_FIELD_NONE))
		return false;
	(void) cell_field(s, len, &rank, &silent);
	return !silent;
}

/*
 * Adds the ignored_columns warning of a header row to result: the names of
 * the columns that are not imported, as many as fit in a message.
 */
void
pt_ignored_columns_issue(const PtCsvRow *row, const PtColumnMap *map,
						 PtRowResult *result)
{
	char		list[PT_MESSAGE_MAX - 160];
	size_t		used = 0;
	int			ncolumns = row->nfields < PT_MAX_COLUMNS ? row->nfields : PT_MAX_COLUMNS;
	int			listed = 0;
	int			total = 0;
	int			col;

	list[0] = '\0';
	for (col = 0; col < ncolumns; col++)
	{
		char		shown[PT_SHOW_SIZE];
		int			n;

		if (!pt_header_cell_ignored(row, map, col))
			continue;
		total++;
		pt_show_value(shown, sizeof(shown), row->value[col], row->length[col]);
		/* Keep room for the separator and an "and N more" after it. */
		if (used + strlen(shown) + 2 + 20 >= sizeof(list))
			continue;
		n = snprintf(list + used, sizeof(list) - used, "%s%s", listed > 0 ? ", " : "", shown);
		used += (size_t) n;
		listed++;
	}
	if (total == 0)
		return;
	if (total > listed)
		snprintf(list + used, sizeof(list) - used, " and %d more", total - listed);
	pt_add_issue(result, PT_WARNING, PT_FIELD_NONE, PT_IGNORED_COLUMNS,
				 total == 1 ?
				 "This column of the header was ignored, as it is not a field of a client "
				 "file or repeats one: %s. Rename it if it should be imported." :
				 "These columns of the header were ignored, as they are not fields of a "
				 "client file or repeat one: %s. Rename them if they should be imported.",
				 list);
}

/* The field a column name means, with its rank, or PT_FIELD_NONE. */
static PtField
cell_field(const char *s, size_t len, int *rank, bool *silent)
{
	char		key[PT_KEY_MAX + 1];
	size_t		n = header_key(s, len, key);
	size_t		i;

	*rank = RANK_WEAK + 1;
	*silent = false;
	if (n == 0)
		return PT_FIELD_NONE;
	if (strcmp(key, silent_key) == 0)
	{
		*silent = true;
		return PT_FIELD_NONE;
	}
	for (i = 0; i < sizeof(column_names) / sizeof(column_names[0]); i++)
	{
		if (strcmp(key, column_names[i].key) == 0)
		{
			*rank = column_names[i].rank;
			return column_names[i].field;
		}
	}
	return PT_FIELD_NONE;
}

/*
 * The key of a column name, NUL-terminated in key (PT_KEY_MAX + 1 bytes):
 * its ASCII letters and digits in lower case.  0 when nothing is left, or
 * when the name is too long or has letters that have no ASCII base letter
 * (no name in the table has them).
 */
static size_t
header_key(const char *s, size_t len, char *key)
{
	size_t		n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if ((unsigned char) c >= 0x80)
			return header_key_unicode(s, len, key);
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			continue;
		if (n == PT_KEY_MAX)
			return 0;
		key[n++] = c;
	}
	key[n] = '\0';
	return n;
}

/*
 * header_key for a name with non-ASCII characters, with ICU: folded to
 * lower case ("ß" becomes "ss"), decomposed (NFD) so that accents come
 * apart from their letters and are dropped.
 */
static size_t
header_key_unicode(const char *s, size_t len, char *key)
{
	UChar		utf16[PT_KEY_MAX * 4];
	UChar		folded[PT_KEY_MAX * 4];
	UChar		nfd[PT_KEY_MAX * 4];
	int32_t		n;
	int32_t		i = 0;
	size_t		out = 0;
	UErrorCode	err = U_ZERO_ERROR;
	const UNormalizer2 *decomposer;

	if (len > PT_KEY_MAX * 4)
		return 0;
	u_strFromUTF8(utf16, PT_KEY_MAX * 4, &n, s, (int32_t) len, &err);
	if (U_FAILURE(err))
		return 0;
	n = u_strFoldCase(folded, PT_KEY_MAX * 4, utf16, n, U_FOLD_CASE_DEFAULT, &err);
	if (U_FAILURE(err))
		return 0;
	decomposer = unorm2_getNFDInstance(&err);
	if (U_FAILURE(err))
		return 0;
	n = unorm2_normalize(decomposer, folded, n, nfd, PT_KEY_MAX * 4, &err);
	if (U_FAILURE(err))
		return 0;

	while (i < n)
	{
		UChar32		c;

		U16_NEXT(nfd, i, n, c);
		if (c < 0x80)
		{
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
				continue;
			if (out == PT_KEY_MAX)
				return 0;
			key[out++] = (char) c;
		}
		else if (u_charType(c) == U_NON_SPACING_MARK)
			continue;
		else if (u_isalnum(c))
			return 0;
	}
	key[out] = '\0';
	return out;
}

/* The field a name of the columns argument (a field name: first_name) means. */
bool
pt_field_by_name(const char *name, PtField *field)
{
	int			f;

	for (f = 0; f < PT_NFIELDS; f++)
	{
		if (strcmp(name, pt_field_name((PtField) f)) == 0)
		{
			*field = (PtField) f;
			return true;
		}
	}
	return false;
}
