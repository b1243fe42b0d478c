import type {Prompter} from '../wizard/questions.js'

// The prompts ap-demo shows, all on stderr so that stdout stays the command's result.
const CONTEXT = {output: process.stderr}

/** The wizard's questions as @inquirer/prompts asks them (loaded only when a prompt is shown). */
export async function inquirerPrompter(): Promise<Prompter> {
  const inquirer = await import('@inquirer/prompts')
  return {
    input: (o) => inquirer.input({message: o.message, default: o.default, validate: o.validate}, CONTEXT),
    password: (o) => inquirer.password({message: o.message, mask: '*', validate: o.validate}, CONTEXT),
    confirm: (o) => inquirer.confirm(o, CONTEXT),
    select: (o) => inquirer.select(o, CONTEXT),
  }
}
