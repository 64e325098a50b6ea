/* SPDX-License-Identifier: ISC */
/* run_as: the start-up rules for root (see run_as.h); the mechanism is in
 * lib/privileges.c. */
#include "run_as.h"

#include <unistd.h>

#include "log.h"
#include "privileges.h"

int run_as_check(const struct sxedge_config *config, bool as_root, FILE *errors)
{
	const struct run_as_config *run_as = &config->run_as;

	if (!as_root || run_as->user != NULL || run_as->allow_root)
		return 0;
	fprintf(errors,
		"%s:%d: refusing to run as root: set user in [global] (e.g. user = nobody) to "
		"serve as that user once the ports are bound and the keys read, or "
		"allow_root = yes to serve as root\n",
		config->path, run_as->line);
	return -1;
}

int run_as_apply(const struct sxedge_config *config)
{
	const struct run_as_config *run_as = &config->run_as;
	char err[256], reason[300], user[64];

	if (run_as->user == NULL && privileges_are_root()) {
		log_event(LOG_LEVEL_WARNING, "running_as_root",
			  "reason=\"allow_root = yes in [global]: the parsers run as root\"");
		return 0;
	}
	if (run_as->user == NULL) {
		if (privileges_shed_capabilities(err, sizeof(err)) < 0) {
			log_event(LOG_LEVEL_ERROR, "privileges_failed", "reason=%s",
				  log_quote(reason, sizeof(reason), err));
			return -1;
		}
		log_event(LOG_LEVEL_INFO, "capabilities_dropped", "uid=%u gid=%u",
			  (unsigned)getuid(), (unsigned)getgid());
		return 0;
	}
	log_quote(user, sizeof(user), run_as->user);
	if (privileges_drop(run_as->uid, run_as->gid, err, sizeof(err)) < 0) {
		log_event(LOG_LEVEL_ERROR, "privileges_failed", "user=%s uid=%u gid=%u reason=%s",
			  user, (unsigned)run_as->uid, (unsigned)run_as->gid,
			  log_quote(reason, sizeof(reason), err));
		return -1;
	}
	log_event(LOG_LEVEL_NOTICE, "privileges_dropped", "user=%s uid=%u gid=%u", user,
		  (unsigned)run_as->uid, (unsigned)run_as->gid);
	return 0;
}
