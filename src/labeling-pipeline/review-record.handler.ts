// placeholder: implemented by the LabelingPipeline handler work
export async function handler(): Promise<void> { throw new Error('not implemented'); }
