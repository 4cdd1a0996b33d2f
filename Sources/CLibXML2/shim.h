#ifndef ETRUST_CLIBXML2_SHIM_H
#define ETRUST_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
// Debian's libxml2 is built with ICU: its encoding.h would pull the system's ICU headers, which
// clash with Foundation's own copy. etrust uses no ICU converter (UTF-8 only), so leave them out;
// only xmlCharEncodingHandler's layout depends on it, and etrust never touches one.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
// xmlFree is a global function pointer; Swift sees it as a variable of optional type.
static inline void etrust_xml_free(void *p) { xmlFree(p); }
#endif
