/* Where the knowledge directory is when neither --knowledge nor the config
 * file's [bot] knowledge names one, found at run time so that an installed
 * careerbot works after its source tree is gone:
 *   1. the environment variable CAREERBOT_KNOWLEDGE, when set and not empty;
 *   2. the installed data directory, <bindir>/../<data subdir>/knowledge,
 *      computed from the running executable (/proc/self/exe), when it exists;
 *   3. the source tree's knowledge/, when the executable runs from the build
 *      folder it was built in;
 *   4. else the installed data directory all the same, so that the error
 *      names where the knowledge base was expected. */
#ifndef APP_PATHS_H
#define APP_PATHS_H

typedef enum app_knowledge_origin {
    APP_KNOWLEDGE_ENV,       /* CAREERBOT_KNOWLEDGE */
    APP_KNOWLEDGE_INSTALLED, /* the installed data directory */
    APP_KNOWLEDGE_SOURCE,    /* the source tree, for a binary in its build folder */
    APP_KNOWLEDGE_CWD,       /* "knowledge", when the executable's path is unknown */
} app_knowledge_origin;

/* What the choice depends on; every string may be NULL. */
typedef struct app_paths_input {
    const char *env;         /* the value of CAREERBOT_KNOWLEDGE */
    const char *exe;         /* absolute path of the running executable */
    const char *data_subdir; /* the data directory below the prefix, e.g. "share/careerbot";
                                an absolute path is used as it is */
    const char *build_dir;   /* the folder the executable was built into */
    const char *source_dir;  /* the source tree it was built from */
} app_paths_input;

/* The knowledge directory for in, as a malloc'd path the caller frees, or
 * NULL when out of memory. *origin (when origin is not NULL) says which rule
 * chose it. Looks at the file system only to see whether folders exist. */
char *app_paths_knowledge(const app_paths_input *in, app_knowledge_origin *origin);

/* The same for this process: its environment, /proc/self/exe and the
 * folders compiled in by CMake. */
char *app_paths_default_knowledge(app_knowledge_origin *origin);

/* A few words for --help: "set by CAREERBOT_KNOWLEDGE", "the installed data
 * directory", ... (static storage). */
const char *app_paths_origin_name(app_knowledge_origin origin);

#endif
