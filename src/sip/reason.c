/* SPDX-License-Identifier: ISC */
/* reason: the table of reason names and phrases (reason.h). */
#include "reason.h"

static const struct {
	const char *name;
	const char *phrase;
} reasons[SIP_REASON_COUNT] = {
#define SIP_REASON_ROW(id, name, phrase) [SIP_REASON_##id] = { name, phrase },
	SIP_REASONS(SIP_REASON_ROW)
#undef SIP_REASON_ROW
};

const char *sip_reason_name(enum sip_reason reason)
{
	return (unsigned)reason < SIP_REASON_COUNT ? reasons[reason].name : "unknown";
}

const char *sip_reason_phrase(enum sip_reason reason)
{
	return (unsigned)reason < SIP_REASON_COUNT ? reasons[reason].phrase : "Unknown";
}
