/**
 * Construct-path globs, as the reviewed acknowledgment and checkov lists write them:
 * `*` matches within one path segment, `**` any number of segments (`**\/Role` also matches `Role`).
 */

/** Turn a construct-path glob into an anchored RegExp (`*` within a segment, `**` any segments). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    if (glob.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      re += '.*';
      i += 1;
    } else if (glob[i] === '*') {
      re += '[^/]*';
    } else {
      re += glob[i].replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}
