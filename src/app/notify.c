#include "app/notify.h"

#include <stdio.h>
#include <time.h>

#include "base/log.h"

#ifdef CAREERBOT_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

static void notify(const char *state)
{
    int rc = sd_notify(0, state);
    if (rc < 0)
        base_log(BASE_LOG_DEBUG, "careerbot", "sd_notify failed: error %d", rc);
}

int app_notify_available(void)
{
    return 1;
}

void app_notify_ready(const char *status)
{
    char text[300];
    snprintf(text, sizeof text, "READY=1\nSTATUS=%.250s", status ? status : "running");
    notify(text);
}

void app_notify_reloading(void)
{
    /* MONOTONIC_USEC lets a Type=notify-reload manager match the reload. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char text[96];
    snprintf(text, sizeof text, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
    notify(text);
}

void app_notify_stopping(void)
{
    notify("STOPPING=1");
}

void app_notify_status(const char *status)
{
    char text[300];
    snprintf(text, sizeof text, "STATUS=%.250s", status);
    notify(text);
}

uint64_t app_notify_watchdog_usec(void)
{
    uint64_t usec = 0;
    return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

void app_notify_watchdog(void)
{
    notify("WATCHDOG=1");
}

#else

int app_notify_available(void)
{
    return 0;
}

void app_notify_ready(const char *status)
{
    (void)status;
}

void app_notify_reloading(void)
{
}

void app_notify_stopping(void)
{
}

void app_notify_status(const char *status)
{
    (void)status;
}

uint64_t app_notify_watchdog_usec(void)
{
    return 0;
}

void app_notify_watchdog(void)
{
}

#endif
