/**
 * Template variable interpolation for SQL, as Grafana's SQL datasources do it
 * before a query goes to /api/ds/query (the server only expands $__ macros):
 * - a single-value variable is inserted with its single quotes doubled and no
 *   quotes around it (the query writes '$name');
 * - a multi-value or include-All variable has each value quoted and the list
 *   joined with commas, for `IN ($name)`;
 * - "All" ($__all) becomes the variable's custom all value, inserted raw, or
 *   every option when it has none.
 */
export interface SqlVariable {
  value: string | string[];
  multi?: boolean;
  includeAll?: boolean;
  /** Inserted unescaped when All is selected, as in Grafana. */
  allValue?: string;
  /** Every option, used for All without an allValue. */
  options?: string[];
}

export const ALL_VALUE = '$__all';

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function isAll(value: string | string[]): boolean {
  return value === ALL_VALUE || (Array.isArray(value) && value.length === 1 && value[0] === ALL_VALUE);
}

export function formatSqlVariable(variable: SqlVariable): string {
  if (isAll(variable.value)) {
    if (variable.allValue !== undefined) {
      return variable.allValue;
    }
    return formatList(variable.options ?? []);
  }
  if (Array.isArray(variable.value)) {
    return formatList(variable.value);
  }
  if (variable.multi || variable.includeAll) {
    return quoteLiteral(variable.value);
  }
  return variable.value.replace(/'/g, "''");
}

// An empty list would make `IN ()`, a syntax error; NULL matches nothing, which is what an empty selection means.
function formatList(values: string[]): string {
  return values.length === 0 ? 'NULL' : values.map(quoteLiteral).join(',');
}

/**
 * Replaces `$name` and `${name}` for the given variables. Unknown names,
 * including Grafana's `$__` macros, are left for the datasource.
 */
export function interpolateSqlVariables(sql: string, variables: Record<string, SqlVariable>): string {
  return sql.replace(/\$\{(\w+)\}|\$(\w+)/g, (match: string, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const variable = variables[name];
    return variable === undefined ? match : formatSqlVariable(variable);
  });
}

/**
 * The account picker as the dashboards' Account variable: one account's name,
 * quoted, or NULL for every account, which each lens function's `account`
 * parameter reads as "all of them".
 */
export function accountVariable(account: string | undefined): SqlVariable {
  return { value: account ?? ALL_VALUE, includeAll: true, allValue: 'NULL' };
}
