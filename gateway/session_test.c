//  session_test: the cookie, the CSRF token, the same-origin check.
#include "gateway/session.h"
#include "tests/testlib.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void t_sid_from_cookie(void)
{
    char good[RAND_ID_SIZE], gv[SESSION_COOKIE_VALUE_SIZE], sid[RAND_ID_SIZE], header[256];
    CHECK(rand_id(good, sizeof good) == 0 && session_cookie_value(good, gv, sizeof gv) == 0);

    snprintf(header, sizeof header, "rcsid=%s", gv);
    CHECK(session_sid_from_cookie(header, false, sid) == 0 && strcmp(sid, good) == 0);
    snprintf(header, sizeof header, "theme=dark; rcsid=%s; other=1", gv);
    CHECK(session_sid_from_cookie(header, false, sid) == 0 && strcmp(sid, good) == 0);
    snprintf(header, sizeof header, "theme=dark;rcsid=%s;other=1", gv);  //  no spaces
    CHECK(session_sid_from_cookie(header, false, sid) == 0 && strcmp(sid, good) == 0);
    snprintf(header, sizeof header, "rcsid=\"%s\"", gv);  //  a quoted value
    CHECK(session_sid_from_cookie(header, false, sid) == 0 && strcmp(sid, good) == 0);

    CHECK(session_sid_from_cookie(NULL, false, sid) == -1 && sid[0] == '\0');
    CHECK(session_sid_from_cookie("", false, sid) == -1 && sid[0] == '\0');
    CHECK(session_sid_from_cookie(";;; ;", false, sid) == -1);
    CHECK(session_sid_from_cookie("theme=dark", false, sid) == -1 && sid[0] == '\0');
    CHECK(session_sid_from_cookie("rcsid=", false, sid) == -1);
    CHECK(session_sid_from_cookie("rcsid", false, sid) == -1);
    CHECK(session_sid_from_cookie("rcsid=short", false, sid) == -1);
    //  right length, wrong alphabet
    CHECK(session_sid_from_cookie("rcsid=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", false, sid) == -1);
    CHECK(session_sid_from_cookie("rcsid=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.", false, sid) == -1);
    //  too long for an id
    snprintf(header, sizeof header, "rcsid=%sX", gv);
    CHECK(session_sid_from_cookie(header, false, sid) == -1 && sid[0] == '\0');
    //  a cookie whose name merely ends in rcsid, or differs in case, is not ours
    snprintf(header, sizeof header, "xrcsid=%s", gv);
    CHECK(session_sid_from_cookie(header, false, sid) == -1);
    snprintf(header, sizeof header, "RCSID=%s", gv);
    CHECK(session_sid_from_cookie(header, false, sid) == -1);
}

//  PUBLIC_URL https: the cookie is __Host-rcsid, and only that one is read.
static void t_sid_from_cookie_secure(void)
{
    char good[RAND_ID_SIZE], gv[SESSION_COOKIE_VALUE_SIZE], sid[RAND_ID_SIZE], header[256];
    CHECK(rand_id(good, sizeof good) == 0 && session_cookie_value(good, gv, sizeof gv) == 0);
    CHECK(strcmp(session_cookie_name(true), "__Host-rcsid") == 0);
    CHECK(strcmp(session_cookie_name(false), "rcsid") == 0);

    snprintf(header, sizeof header, "__Host-rcsid=%s", gv);
    CHECK(session_sid_from_cookie(header, true, sid) == 0 && strcmp(sid, good) == 0);
    CHECK(session_sid_from_cookie(header, false, sid) == -1);  //  plain mode reads rcsid only
    snprintf(header, sizeof header, "rcsid=%s", gv);
    CHECK(session_sid_from_cookie(header, true, sid) == -1);  //  a plain cookie is not taken over https
    //  the prefix is exact: a "__host-" cookie escaped the browser's __Host- rules
    snprintf(header, sizeof header, "__host-rcsid=%s", gv);
    CHECK(session_sid_from_cookie(header, true, sid) == -1);
    snprintf(header, sizeof header, "__Secure-rcsid=%s", gv);
    CHECK(session_sid_from_cookie(header, true, sid) == -1);
    char other[RAND_ID_SIZE], ov[SESSION_COOKIE_VALUE_SIZE];
    CHECK(rand_id(other, sizeof other) == 0 && session_cookie_value(other, ov, sizeof ov) == 0);
    snprintf(header, sizeof header, "rcsid=%s; __Host-rcsid=%s", ov, gv);
    CHECK(session_sid_from_cookie(header, true, sid) == 0 && strcmp(sid, good) == 0);
    CHECK(session_sid_from_cookie(header, false, sid) == 0 && strcmp(sid, other) == 0);
}

static void t_set_cookie(void)
{
    char sid[RAND_ID_SIZE], out[SESSION_SET_COOKIE_SIZE], want[SESSION_SET_COOKIE_SIZE];
    CHECK(rand_id(sid, sizeof sid) == 0);
    char value[SESSION_COOKIE_VALUE_SIZE];
    CHECK(session_cookie_value(sid, value, sizeof value) == 0);
    CHECK(strncmp(value, sid, strlen(sid)) == 0 && value[strlen(sid)] == '.' && strlen(value) == strlen(sid) + 23);
    CHECK(session_set_cookie(out, sizeof out, sid, false) == 0);
    snprintf(want, sizeof want, "rcsid=%s; Path=/; HttpOnly; SameSite=Lax", value);
    CHECK(strcmp(out, want) == 0);
    CHECK(session_set_cookie(out, sizeof out, "not an id", false) == -1);
    CHECK(session_set_cookie(out, 20, sid, false) == -1);
    CHECK(session_clear_cookie(out, sizeof out, false) == 0);
    CHECK(strcmp(out, "rcsid=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax") == 0);
}

//  __Host-: Secure, Path=/, no Domain (else the browser drops it).
static void t_set_cookie_secure(void)
{
    char sid[RAND_ID_SIZE], out[SESSION_SET_COOKIE_SIZE], want[SESSION_SET_COOKIE_SIZE];
    CHECK(rand_id(sid, sizeof sid) == 0);
    char value[SESSION_COOKIE_VALUE_SIZE];
    CHECK(session_cookie_value(sid, value, sizeof value) == 0);
    CHECK(session_set_cookie(out, sizeof out, sid, true) == 0);
    snprintf(want, sizeof want, "__Host-rcsid=%s; Path=/; HttpOnly; SameSite=Lax; Secure", value);
    CHECK(strcmp(out, want) == 0);
    CHECK(!strstr(out, "Domain"));
    CHECK(session_clear_cookie(out, sizeof out, true) == 0);
    CHECK(strcmp(out, "__Host-rcsid=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure") == 0);
    //  what one mode writes, the same mode reads back
    char header[SESSION_SET_COOKIE_SIZE], back[RAND_ID_SIZE];
    CHECK(session_set_cookie(header, sizeof header, sid, true) == 0);
    header[strcspn(header, ";")] = '\0';
    CHECK(session_sid_from_cookie(header, true, back) == 0 && strcmp(back, sid) == 0);
}

//  Only ids the gateway tagged are read: a planted cookie (a well-formed id alone, an empty, cut, altered or
//  other key's tag) is no cookie.
static void t_planted(void)
{
    char id[RAND_ID_SIZE], value[SESSION_COOKIE_VALUE_SIZE], header[256], sid[RAND_ID_SIZE];
    CHECK(rand_id(id, sizeof id) == 0 && session_cookie_value(id, value, sizeof value) == 0);
    const char *tag = strchr(value, '.') + 1;
    snprintf(header, sizeof header, "rcsid=%s", id);
    CHECK(session_sid_from_cookie(header, false, sid) == -1 && sid[0] == '\0');
    snprintf(header, sizeof header, "rcsid=%s.", id);
    CHECK(session_sid_from_cookie(header, false, sid) == -1);
    snprintf(header, sizeof header, "rcsid=%s.%.21s", id, tag);  //  cut
    CHECK(session_sid_from_cookie(header, false, sid) == -1);
    snprintf(header, sizeof header, "rcsid=%s.%sA", id, tag);  //  longer
    CHECK(session_sid_from_cookie(header, false, sid) == -1);
    snprintf(header, sizeof header, "rcsid=%s.%.21s%c", id, tag, tag[21] == 'A' ? 'B' : 'A');
    CHECK(session_sid_from_cookie(header, false, sid) == -1);
    char other[RAND_ID_SIZE], ov[SESSION_COOKIE_VALUE_SIZE];
    CHECK(rand_id(other, sizeof other) == 0 && session_cookie_value(other, ov, sizeof ov) == 0);
    snprintf(header, sizeof header, "rcsid=%s.%s", id, strchr(ov, '.') + 1);  //  another id's tag
    CHECK(session_sid_from_cookie(header, false, sid) == -1);
    snprintf(header, sizeof header, "rcsid=%s", value);
    CHECK(session_sid_from_cookie(header, false, sid) == 0 && strcmp(sid, id) == 0);
    //  under another key (another gateway's DATA_DIR) the same value is no cookie, and the CSRF token differs
    char csrf[SESSION_CSRF_SIZE], csrf2[SESSION_CSRF_SIZE], err[256];
    CHECK(session_csrf(id, csrf) == 0);
    CHECK(session_key_load(NULL, err, sizeof err) == 0);
    CHECK(session_sid_from_cookie(header, false, sid) == -1);
    CHECK(session_csrf(id, csrf2) == 0 && strcmp(csrf, csrf2) != 0 && !session_csrf_ok(id, csrf));
    //  without a key nothing is read or made
    session_key_unload();
    CHECK(session_cookie_value(id, value, sizeof value) == -1 && session_csrf(id, csrf) == -1);
    CHECK(session_set_cookie(header, sizeof header, id, false) == -1);
    CHECK(session_key_load(NULL, err, sizeof err) == 0);
}

//  The key file: made 0600 when absent, the same key at the next load; refused when open to others, not ours,
//  a symlink or of the wrong size (the gateway then does not start).
static void t_key_file(void)
{
    char path[512], err[512], id[RAND_ID_SIZE], v1[SESSION_COOKIE_VALUE_SIZE], v2[SESSION_COOKIE_VALUE_SIZE];
    snprintf(path, sizeof path, "%s/gateway.key", test_tmpdir());
    unlink(path);
    CHECK(rand_id(id, sizeof id) == 0);
    CHECK(session_key_load(path, err, sizeof err) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == SESSION_KEY_BYTES);
    CHECK(session_cookie_value(id, v1, sizeof v1) == 0);
    CHECK(session_key_load(path, err, sizeof err) == 0);  //  read back: the same key
    CHECK(session_cookie_value(id, v2, sizeof v2) == 0 && strcmp(v1, v2) == 0);

    CHECK(chmod(path, 0640) == 0);
    CHECK(session_key_load(path, err, sizeof err) == -1 && strstr(err, "group or others"));
    CHECK(chmod(path, 0600) == 0);
    if (geteuid() == 0) {  //  as root (the tests' container): a file of another user
        CHECK(chown(path, 65534, 65534) == 0);
        CHECK(session_key_load(path, err, sizeof err) == -1 && strstr(err, "another user"));
        CHECK(chown(path, 0, 0) == 0);
    }
    char link_path[600];
    snprintf(link_path, sizeof link_path, "%s.link", path);
    unlink(link_path);
    CHECK(symlink(path, link_path) == 0);
    CHECK(session_key_load(link_path, err, sizeof err) == -1 && strstr(err, "cannot read"));
    unlink(link_path);
    FILE *f = fopen(path, "a");
    CHECK(f && fputc('x', f) != EOF && fclose(f) == 0);
    CHECK(session_key_load(path, err, sizeof err) == -1 && strstr(err, "32 bytes"));
    unlink(path);
    CHECK(session_key_load(NULL, err, sizeof err) == 0);
}

//  Gateways of one DATA_DIR starting at once each make the key file: one key wins and every one of them reads
//  that one, whole (a temporary file linked in place), so each accepts the others' cookies.
static void t_key_file_race(void)
{
    char path[512], id[RAND_ID_SIZE];
    snprintf(path, sizeof path, "%s/race.key", test_tmpdir());
    unlink(path);
    CHECK(rand_id(id, sizeof id) == 0);
    enum { N = 8 };
    int fds[N][2];
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        CHECK(pipe(fds[i]) == 0);
        pids[i] = fork();
        if (pids[i] == 0) {
            char err[256], value[SESSION_COOKIE_VALUE_SIZE] = "";
            if (session_key_load(path, err, sizeof err) == 0)
                session_cookie_value(id, value, sizeof value);
            ssize_t n = write(fds[i][1], value, sizeof value);
            _exit(n == (ssize_t) sizeof value ? 0 : 1);
        }
    }
    char first[SESSION_COOKIE_VALUE_SIZE] = "";
    for (int i = 0; i < N; i++) {
        char value[SESSION_COOKIE_VALUE_SIZE] = "";
        CHECK(read(fds[i][0], value, sizeof value) == (ssize_t) sizeof value);
        int status = 0;
        CHECK(waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK(value[0] != '\0');
        if (i == 0)
            memcpy(first, value, sizeof first);
        CHECK(strcmp(value, first) == 0);
        close(fds[i][0]);
        close(fds[i][1]);
    }
    char err[256], mine[SESSION_COOKIE_VALUE_SIZE];
    CHECK(session_key_load(path, err, sizeof err) == 0 && session_cookie_value(id, mine, sizeof mine) == 0);
    CHECK(strcmp(mine, first) == 0);
    unlink(path);
    CHECK(session_key_load(NULL, err, sizeof err) == 0);
}

static void t_csrf(void)
{
    char a[RAND_ID_SIZE], b[RAND_ID_SIZE], ta[SESSION_CSRF_SIZE], ta2[SESSION_CSRF_SIZE], tb[SESSION_CSRF_SIZE];
    CHECK(rand_id(a, sizeof a) == 0 && rand_id(b, sizeof b) == 0);
    CHECK(session_csrf(a, ta) == 0 && session_csrf(a, ta2) == 0 && session_csrf(b, tb) == 0);
    CHECK(strcmp(ta, ta2) == 0);  //  derived: the same for the same session
    CHECK(strcmp(ta, tb) != 0);   //  and different for another
    CHECK(strlen(ta) == SESSION_CSRF_SIZE - 1);
    CHECK(strstr(ta, a) == NULL);  //  tells nothing of the id
    CHECK(session_csrf_ok(a, ta));
    CHECK(!session_csrf_ok(a, tb));
    CHECK(!session_csrf_ok(b, ta));
    CHECK(!session_csrf_ok(a, ""));
    CHECK(!session_csrf_ok(a, NULL));
    CHECK(!session_csrf_ok(NULL, ta));
    char cut[SESSION_CSRF_SIZE];
    snprintf(cut, sizeof cut, "%.*s", (int) strlen(ta) - 1, ta);
    CHECK(!session_csrf_ok(a, cut));  //  a prefix is not the token
    char longer[SESSION_CSRF_SIZE + 2];
    snprintf(longer, sizeof longer, "%sA", ta);
    CHECK(!session_csrf_ok(a, longer));
    CHECK(session_csrf("bogus", ta) == -1 && ta[0] == '\0');
    CHECK(!session_csrf_ok("bogus", ""));
}

static void t_same_origin(void)
{
    CHECK(session_same_origin(NULL, "localhost:5000", NULL, false));
    CHECK(session_same_origin("http://localhost:5000", "localhost:5000", "same-origin", false));
    CHECK(session_same_origin("http://LOCALHOST:5000", "localhost:5000", NULL, false));
    CHECK(!session_same_origin("http://evil.example", "localhost:5000", NULL, false));
    CHECK(!session_same_origin("http://localhost:5001", "localhost:5000", NULL, false));
    CHECK(!session_same_origin("null", "localhost:5000", NULL, false));
    CHECK(!session_same_origin("http://localhost:5000", NULL, NULL, false));
    CHECK(!session_same_origin(NULL, "localhost:5000", "cross-site", false));
    //  Our own form under Referrer-Policy: no-referrer: Chromium sends Origin: null with Sec-Fetch-Site: same-origin.
    CHECK(session_same_origin("null", "localhost:5000", "same-origin", false));
    CHECK(!session_same_origin("null", "localhost:5000", "same-site", false));
    CHECK(session_same_origin(NULL, "localhost:5000", "none", false));
    //  The scheme is PUBLIC_URL's: over https, an http page of the same host is another origin
    //  (Host has no port for both 80 and 443), and the other way round.
    CHECK(session_same_origin("https://demo.example", "demo.example", NULL, true));
    CHECK(session_same_origin("HTTPS://demo.example", "demo.example", NULL, true));
    CHECK(!session_same_origin("http://demo.example", "demo.example", NULL, true));
    CHECK(!session_same_origin("https://demo.example", "demo.example", NULL, false));
    CHECK(!session_same_origin("https://evil.example", "demo.example", NULL, true));
    CHECK(session_same_origin("null", "demo.example", "same-origin", true));
}

static const test_case_t cases[] = {
    { "sid_from_cookie", t_sid_from_cookie },
    { "sid_from_cookie_secure", t_sid_from_cookie_secure },
    { "set_cookie", t_set_cookie },
    { "set_cookie_secure", t_set_cookie_secure },
    { "planted", t_planted },
    { "key_file", t_key_file },
    { "key_file_race", t_key_file_race },
    { "csrf", t_csrf },
    { "same_origin", t_same_origin },
};

int main(int argc, char **argv)
{
    char err[256];
    if (rand_init() < 0 || session_key_load(NULL, err, sizeof err) < 0)
        return 2;
    return TEST_MAIN(argc, argv, cases);
}
