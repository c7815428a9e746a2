//  front: what the nginx front takes from the gateway binary, which prints it and exits.
//
//      gateway --static-page NAME   the project's own page for an error nginx answers itself:
//                                   rate-limited (429), unavailable (502/503/504), too-large (413/431)
//      gateway --static-headers     the headers every gateway page goes out with, "Name: value" a line
//      gateway --threads            the worker threads the gateway would start (GATEWAY_THREADS)
//
//  None of them reads the configuration or talks to a service: deploy/ runs them before
//  anything is up. The pages look like the gateway's other error pages (the same header,
//  /static/app.css, a way back to /) and hold no input from anyone.
#ifndef FRONT_H_INCLUDED
#define FRONT_H_INCLUDED

#include "gateway/html.h"

#include <stdio.h>

//  Write the complete page name into h. Returns the HTTP status it stands for, or -1 for an unknown name.
int front_page(html_t *h, const char *name);
//  The name of the i-th page. Returns NULL past the last.
const char *front_page_name(size_t i);
//  The headers of every gateway page: name, value, name, value, ..., NULL. Never NULL.
const char *const *front_headers(void);
//  Run the command-line mode argv asks for, writing to out (errors to err). Returns -1 when argv asks
//  for none (then serve), else the exit code: 0 done, 1 failed (output, GATEWAY_THREADS), 2 unknown mode or page.
int front_main(int argc, char **argv, FILE *out, FILE *err);

#endif
