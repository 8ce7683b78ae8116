import { z } from 'zod';
import { secret, maskSecrets } from '../src/sdk/index.ts';
const s = z.object({ url: z.string(), auth: z.discriminatedUnion('type', [z.object({type: z.literal('none')}), z.object({type: z.literal('basic'), username: z.string(), password: secret(z.string())})]).default({type:'none'}) });
console.log(JSON.stringify(maskSecrets(s, {url:'x', auth:{type:'basic', username:'u', password:'p'}})));
console.log(JSON.stringify(z.toJSONSchema(s, {io:'input'})));
