/* SPDX-License-Identifier: ISC */
/* Unit tests for src/turn/hash_index: every record stays reachable through
 * colliding hashes, runs that wrap around the end, and removals in the
 * middle of a run (backward shift); a long random sequence of inserts and
 * removals checked against a plain array, with the slot array staying as
 * small as the live entries need (no tombstones); the seeded key hash. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hash_index.h"
#include "test_suite.h"

/* Is RECORD among the candidates for HASH? */
static bool has(const struct hash_index *index, uint32_t hash, uint32_t record)
{
	struct hash_probe probe;
	uint32_t found;

	hash_index_probe(index, hash, &probe);
	while (hash_index_next(index, &probe, &found)) {
		if (found == record)
			return true;
	}
	return false;
}

START_TEST(test_empty)
{
	struct hash_index index;
	struct hash_probe probe;
	uint32_t found;

	hash_index_init(&index);
	hash_index_probe(&index, 7, &probe);
	ck_assert(!hash_index_next(&index, &probe, &found));
	ck_assert(!hash_index_remove(&index, 7, 0));
	ck_assert_uint_eq(hash_index_bytes(&index), 0);
	hash_index_free(&index);
}
END_TEST

START_TEST(test_one_hash_for_all)
{
	struct hash_index index;
	struct hash_probe probe;
	uint32_t found, count = 0;

	hash_index_init(&index);
	for (uint32_t record = 0; record < 100; record++)
		ck_assert(hash_index_insert(&index, 42, record));
	hash_index_probe(&index, 42, &probe);
	while (hash_index_next(&index, &probe, &found))
		count++;
	ck_assert_uint_eq(count, 100);
	/* out of the middle of the one long run */
	for (uint32_t record = 10; record < 90; record += 2)
		ck_assert(hash_index_remove(&index, 42, record));
	for (uint32_t record = 0; record < 100; record++)
		ck_assert_msg(has(&index, 42, record) ==
				      (record < 10 || record >= 90 || record % 2),
			      "record %u", record);
	ck_assert(!hash_index_remove(&index, 42, 10));
	ck_assert(!has(&index, 43, 11));
	hash_index_free(&index);
}
END_TEST

/* Capacity 16 at first: hashes 14 and 15 fill the end and wrap to 0 and 1;
 * an entry whose home is 0 then sits behind them. */
START_TEST(test_run_wraps_around)
{
	struct hash_index index;

	hash_index_init(&index);
	ck_assert(hash_index_insert(&index, 14, 1)); /* slot 14 */
	ck_assert(hash_index_insert(&index, 15, 2)); /* 15 */
	ck_assert(hash_index_insert(&index, 14, 3)); /* wraps to 0 */
	ck_assert(hash_index_insert(&index, 16, 4)); /* home 0, goes to 1 */
	ck_assert(hash_index_insert(&index, 15, 5)); /* 2 */
	ck_assert_uint_eq(index.capacity, 16);
	ck_assert(hash_index_remove(&index, 14, 1));
	ck_assert(has(&index, 15, 2));
	ck_assert(has(&index, 14, 3));
	ck_assert(has(&index, 16, 4));
	ck_assert(has(&index, 15, 5));
	ck_assert(hash_index_remove(&index, 14, 3));
	ck_assert(has(&index, 16, 4));
	ck_assert(has(&index, 15, 5));
	ck_assert(hash_index_remove(&index, 15, 2));
	ck_assert(has(&index, 16, 4));
	ck_assert(has(&index, 15, 5));
	ck_assert_uint_eq(index.used, 2);
	hash_index_free(&index);
}
END_TEST

/* Random inserts and removals against a plain array; hashes from a small
 * range so that runs are long and collide. */
START_TEST(test_random_against_model)
{
	enum {
		RECORDS = 300,
		STEPS = 200000
	};
	static uint32_t hash_of[RECORDS];
	static bool present[RECORDS];
	struct hash_index index;
	unsigned seed = 12345;
	uint32_t live = 0;

	hash_index_init(&index);
	memset(present, 0, sizeof(present));
	for (int step = 0; step < STEPS; step++) {
		uint32_t record = (uint32_t)rand_r(&seed) % RECORDS;
		if (present[record]) {
			if (!hash_index_remove(&index, hash_of[record], record))
				ck_abort_msg("record %u not removed at step %d", record, step);
			present[record] = false;
			live--;
		} else {
			hash_of[record] = (uint32_t)rand_r(&seed) % 64;
			if (!hash_index_insert(&index, hash_of[record], record))
				ck_abort_msg("record %u not inserted at step %d", record, step);
			present[record] = true;
			live++;
		}
		if (index.used != live)
			ck_abort_msg("%u used, %u live at step %d", index.used, live, step);
		if (step % 100 == 0) {
			for (uint32_t r = 0; r < RECORDS; r++) {
				if (has(&index, hash_of[r], r) != present[r])
					ck_abort_msg("record %u at step %d", r, step);
			}
		}
	}
	/* at most 300 live at 3/4 load: 512 slots, however many removals */
	ck_assert_uint_le(index.capacity, 512);
	hash_index_free(&index);
}
END_TEST

START_TEST(test_key_hash_is_seeded)
{
	const char key[] = "alice";
	uint32_t hash = hash_index_key(1, key, 5);

	ck_assert_uint_eq(hash, hash_index_key(1, key, 5));
	ck_assert_uint_ne(hash, hash_index_key(2, key, 5));
	ck_assert_uint_ne(hash, hash_index_key(1, key, 4));
	/* a 16-byte key: both words count */
	uint8_t long_key[16] = { 0 };
	uint32_t zero = hash_index_key(1, long_key, 16);
	long_key[15] = 1;
	ck_assert_uint_ne(zero, hash_index_key(1, long_key, 16));
}
END_TEST

static Suite *hash_index_suite(void)
{
	Suite *suite = suite_create("hash_index");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_one_hash_for_all);
	tcase_add_test(tc, test_run_wraps_around);
	tcase_add_test(tc, test_random_against_model);
	tcase_add_test(tc, test_key_hash_is_seeded);
	suite_add_tcase(suite, tc);
	return suite;
}

int main(void)
{
	return test_suite_run(hash_index_suite());
}
