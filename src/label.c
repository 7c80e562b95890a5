/*-------------------------------------------------------------------------
 *
 * label.c
 *	  The "governance" security label provider: parses a label completely
 *	  when it is set, so that nothing invalid is ever stored.
 *
 *-------------------------------------------------------------------------
 */
#include "pg_governance.h"

#include "catalog/objectaddress.h"

/*
 * label_object_relabel
 *		Hook called by SECURITY LABEL FOR governance.  Until the label
 *		grammar lands, every label is refused rather than stored unchecked.
 */
void
label_object_relabel(const ObjectAddress *object, const char *seclabel)
{
	ereport(ERROR,
			(errcode(ERRCODE_GV_INVALID_LABEL),
			 errmsg("governance labels are not supported by this version"),
			 errdetail("Label \"%s\" was not stored.", seclabel ? seclabel : "(null)"),
			 errhint("Upgrade pg_governance to a version that implements the label grammar.")));
}
