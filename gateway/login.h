//  login: the routes of logging in and out (/login, /oauth2callback, GET and POST /logout).
#ifndef LOGIN_H_INCLUDED
#define LOGIN_H_INCLUDED

#include "gateway/request.h"

//  Largest POST /logout body read.
#define LOGIN_BODY_MAX 1024

//  GET /login?env=production|sandbox: the popup page for authsvc's authorize URL (400 for any other env).
int login_start(request_t *r);
//  GET /oauth2callback: error= page, or EXCHANGE and the rotated session cookie.
int login_callback(request_t *r);
//  GET /logout: a page with the logout button (logs nothing out by itself).
int login_logout_page(request_t *r);
//  POST /logout: same-origin and CSRF checked, LOGOUT, cookie cleared, 303 to /.
int login_logout(request_t *r);

#endif
