//  front_test: the pages and headers the gateway binary prints for the nginx front, and the
//  binary itself (its modes run before any configuration; it refuses a TLS port).
#include "gateway/front.h"
#include "gateway/reply.h"
#include "gateway/server.h"
#include "tests/testlib.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

//  The page name renders, its status in *status_p (-1 unknown). Returns the page (caller frees), or NULL.
static char *s_page(const char *name, int *status_p)
{
    html_t *h = html_new(64u << 10);
    *status_p = front_page(h, name);
    char *page = *status_p > 0 && html_ok(h) ? strdup(html_data(h)) : NULL;
    html_destroy(&h);
    return page;
}

//  A complete document with the look of the gateway's error pages and a way back to /.
static bool s_full_page(const char *page)
{
    return page && strncmp(page, "<!doctype html>\n<html lang=\"en\">", 32) == 0 && strstr(page, "</html>\n")
        && strstr(page, "<meta charset=\"utf-8\">")
        && strstr(page, "<link rel=\"stylesheet\" href=\"/static/app.css\">")
        && strstr(page, "<main data-page=\"error\">") && strstr(page, "<a class=\"button\" href=\"/\">");
}

static void t_pages(void)
{
    struct {
        const char *name;
        int status;
        const char *says;
    } want[] = {
        { "rate-limited", 429, "Too many requests from your address; wait a moment and try again" },
        { "unavailable", 503, "The service is not answering; try again in a moment" },
        { "too-large", 413, "This request was larger than this site accepts" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int status;
        char *page = s_page(want[i].name, &status);
        CHECK(status == want[i].status);
        CHECK(s_full_page(page));
        CHECK(page && strstr(page, want[i].says));
        char line[64];
        snprintf(line, sizeof line, "<p class=\"status\">Error %d</p>", want[i].status);
        CHECK(page && strstr(page, line));
        //  no session state, no demo chip: nothing is known about whoever gets it
        CHECK(page && !strstr(page, "chip"));
        free(page);
        CHECK(strcmp(front_page_name(i), want[i].name) == 0);
    }
    CHECK(front_page_name(sizeof want / sizeof want[0]) == NULL);
    int status;
    char *page = s_page("rate-limited", &status);
    CHECK(page && strstr(page, "<title>Too many requests \xc2\xb7 RingCentral OAuth demo</title>"));
    free(page);
}

static void t_unknown_page(void)
{
    const char *bad[] = { "", "nope", "Rate-limited", "rate-limited ", "../etc/passwd", "<script>", NULL };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int status;
        char *page = s_page(bad[i], &status);
        CHECK(status == -1 && page == NULL);
    }
}

static void t_headers(void)
{
    const char *const *h = front_headers();
    size_t n = 0;
    bool csp = false, no_store = false;
    for (; h[n]; n += 2) {
        CHECK(h[n + 1] != NULL && !strpbrk(h[n + 1], "\r\n"));
        csp = csp || (strcmp(h[n], "Content-Security-Policy") == 0 && strcmp(h[n + 1], REPLY_CSP) == 0);
        no_store = no_store || (strcmp(h[n], "Cache-Control") == 0 && strcmp(h[n + 1], "no-store") == 0);
    }
    CHECK(n == 10 && csp && no_store);
}

//  Run front_main on argv; its output and error text into out/err (freed by the caller). Returns its result.
static int s_main(int argc, const char **argv, char **out, char **err)
{
    FILE *fo = tmpfile(), *fe = tmpfile();
    int rc = front_main(argc, (char **) argv, fo, fe);
    FILE *files[2] = { fo, fe };
    char **texts[2] = { out, err };
    for (int i = 0; i < 2; i++) {
        long len = ftell(files[i]);
        rewind(files[i]);
        *texts[i] = calloc(1, (size_t) (len > 0 ? len : 0) + 1);
        if (len > 0 && fread(*texts[i], 1, (size_t) len, files[i]) != (size_t) len)
            (*texts[i])[0] = '\0';
        fclose(files[i]);
    }
    return rc;
}

static void t_main_modes(void)
{
    char *out, *err;
    CHECK(s_main(1, (const char *[]){ "gateway", NULL }, &out, &err) == -1);  //  no mode: serve
    free(out), free(err);
    CHECK(s_main(3, (const char *[]){ "gateway", "--static-page", "unavailable", NULL }, &out, &err) == 0);
    CHECK(s_full_page(out) && strstr(out, "The service is not answering") && !*err);
    free(out), free(err);
    CHECK(s_main(3, (const char *[]){ "gateway", "--static-page", "bogus", NULL }, &out, &err) == 2);
    CHECK(!*out && strstr(err, "no page named \"bogus\"") && strstr(err, "rate-limited unavailable too-large"));
    free(out), free(err);
    CHECK(s_main(2, (const char *[]){ "gateway", "--static-page", NULL }, &out, &err) == 2);
    free(out), free(err);
    CHECK(s_main(2, (const char *[]){ "gateway", "--bogus", NULL }, &out, &err) == 2);
    CHECK(!*out && strstr(err, "usage:"));
    free(out), free(err);
    CHECK(s_main(2, (const char *[]){ "gateway", "--static-headers", NULL }, &out, &err) == 0);
    CHECK(strstr(out, "X-Content-Type-Options: nosniff\n") && strstr(out, "Content-Security-Policy: " REPLY_CSP "\n"));
    free(out), free(err);
    unsetenv("GATEWAY_THREADS");
    CHECK(s_main(2, (const char *[]){ "gateway", "--threads", NULL }, &out, &err) == 0);
    char dflt[16];
    snprintf(dflt, sizeof dflt, "%d\n", SERVER_THREADS_DEFAULT);
    CHECK(strcmp(out, dflt) == 0);
    free(out), free(err);
    setenv("GATEWAY_THREADS", "300", 1);
    CHECK(s_main(2, (const char *[]){ "gateway", "--threads", NULL }, &out, &err) == 0);
    CHECK(strcmp(out, "300\n") == 0);
    free(out), free(err);
    setenv("GATEWAY_THREADS", "0", 1);
    CHECK(s_main(2, (const char *[]){ "gateway", "--threads", NULL }, &out, &err) == 1);
    CHECK(!*out && strstr(err, "GATEWAY_THREADS"));
    free(out), free(err);
    unsetenv("GATEWAY_THREADS");
}

//  The built gateway binary, beside this test's folder (BUILD/test/front_test -> BUILD/bin/gateway).
static bool s_gateway_path(char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return false;
    *slash = '\0';
    int m = snprintf(out, size, "%s/../bin/gateway", self);
    return m > 0 && (size_t) m < size && access(out, X_OK) == 0;
}

//  Run the gateway binary under sh with env assignments and args; its stdout+stderr into out. Returns its exit code.
static int s_run(const char *env, const char *args, char *out, size_t size)
{
    char gw[PATH_MAX], cmd[PATH_MAX * 2 + 512];
    out[0] = '\0';
    if (!CHECK(s_gateway_path(gw, sizeof gw)))
        return -1;
    snprintf(cmd, sizeof cmd, "env %s RUN_DIR='%s/run' DATA_DIR='%s/data' RC_ENV_DIR='%s/none' timeout 10 '%s' %s 2>&1",
             env, test_tmpdir(), test_tmpdir(), test_tmpdir(), gw, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t len = fread(out, 1, size - 1, p);
    out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void t_binary_refuses_tls_port(void)
{
    char out[4096];
    int rc = s_run("GATEWAY_INTERNAL_PORT=8443s", "", out, sizeof out);
    CHECK(rc != 0 && rc != -1 && rc != 124);  //  exits at once (124: it was still running)
    CHECK(strstr(out, "config.invalid") && strstr(out, "GATEWAY_INTERNAL_PORT=8443s") && strstr(out, "TLS"));
}

static void t_binary_modes_need_no_config(void)
{
    char out[65536];
    //  a configuration the server would refuse does not matter to the modes
    CHECK(s_run("GATEWAY_INTERNAL_PORT=8443s", "--static-page rate-limited", out, sizeof out) == 0);
    CHECK(s_full_page(out) && strstr(out, "Too many requests from your address"));
    CHECK(s_run("GATEWAY_INTERNAL_PORT=8443s", "--static-page nope", out, sizeof out) == 2);
    CHECK(s_run("GATEWAY_THREADS=64", "--threads", out, sizeof out) == 0 && strcmp(out, "64\n") == 0);
}

static const test_case_t cases[] = {
    { "pages", t_pages },
    { "unknown_page", t_unknown_page },
    { "headers", t_headers },
    { "main_modes", t_main_modes },
    { "binary_refuses_tls_port", t_binary_refuses_tls_port },
    { "binary_modes_need_no_config", t_binary_modes_need_no_config },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
