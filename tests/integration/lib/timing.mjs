// Upper time bounds of the tests, with the slack a loaded or sanitizer-slowed machine needs:
// ms times TEST_TIME_SCALE (at least 1; tests/run sets it, as for the C tests' test_slack_ms).
// What a bound proves (not the full timeout, not one after the other) must hold at that scale.
export const TIME_SCALE = Math.min(100, Math.max(1, Number(process.env.TEST_TIME_SCALE) || 1));
export const slack = ms => ms * TIME_SCALE;
