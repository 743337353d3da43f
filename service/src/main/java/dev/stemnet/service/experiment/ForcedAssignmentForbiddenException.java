package dev.stemnet.service.experiment;

import dev.stemnet.service.scoring.ClientValues;

/** A request asked to force arms without being an allow-listed caller: refused with 403, never ignored. */
public class ForcedAssignmentForbiddenException extends RuntimeException {

    ForcedAssignmentForbiddenException(String caller) {
        super(caller == null
                ? "forcing experiment arms needs an allow-listed " + ForcedArms.CALLER_HEADER + " and its " + ForcedArms.TOKEN_HEADER
                : "caller '" + ClientValues.echo(caller) + "' may not force experiment arms (not allow-listed, or a wrong token)");
    }
}
