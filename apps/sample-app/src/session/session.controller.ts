import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { setLogContextUserId } from '@bastion/loki-logger';
import type { Request } from 'express';
import * as v from 'valibot';
import { bodyObject, nonEmptyString, ValibotBodyPipe } from '../common/valibot-body.pipe.js';
import { SignInThrottlerGuard } from './sign-in-throttler.guard.js';

const SignInBody = bodyObject({ user: nonEmptyString('user', 200) });

@Controller('session')
export class SessionController {
  /** Sign-in: at most SIGN_IN_LIMIT per user and address a minute, then 429 (see SignInThrottlerGuard). */
  @Post()
  @HttpCode(201)
  @UseGuards(SignInThrottlerGuard)
  async create(
    @Req() req: Request,
    @Body(new ValibotBodyPipe(SignInBody)) { user }: v.InferOutput<typeof SignInBody>,
  ): Promise<{ user: string }> {
    // A new id on sign-in prevents session fixation.
    await new Promise<void>((resolve, reject) =>
      req.session.regenerate((err) => (err ? reject(err) : resolve())),
    );
    req.session.user = user;
    await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
    setLogContextUserId(user);
    return { user };
  }

  @Get()
  get(@Req() req: Request): { user: string } {
    const user = req.session?.user;
    if (!user) throw new UnauthorizedException('no session: POST /session first');
    return { user };
  }

  @Delete()
  @HttpCode(204)
  async destroy(@Req() req: Request): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      req.session.destroy((err) => (err ? reject(err) : resolve())),
    );
  }
}
