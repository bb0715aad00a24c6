/* Telling systemd how the service is doing (sd_notify): READY once the
 * knowledge base is loaded and the networks are set up, RELOADING while
 * SIGHUP applies a new configuration, STOPPING, a STATUS line, and the
 * watchdog's keep-alive. Built without libsystemd (or not started by
 * systemd), every call does nothing. */
#ifndef APP_NOTIFY_H
#define APP_NOTIFY_H

#include <stdint.h>

/* 1 when this build can talk to systemd. */
int app_notify_available(void);
void app_notify_ready(const char *status);
void app_notify_reloading(void);
void app_notify_stopping(void);
void app_notify_status(const char *status);
/* How often the watchdog must hear from us, in microseconds (WatchdogSec=);
 * 0 when there is no watchdog. */
uint64_t app_notify_watchdog_usec(void);
void app_notify_watchdog(void);

#endif
